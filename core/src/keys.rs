//! Every key `service.toml` accepts, per table, with what its value is. The parser checks
//! keys against these lists (and suggests from them), and the README's reference tables
//! are tested against them (`tests/readme.rs`), in both directions.
//!
//! ```
//! use service_manifest_core::keys::{BINARY, Value};
//! let kind = BINARY.key("kind").unwrap();
//! assert_eq!(kind.value.readme(), "`server` \\| `admin` \\| `web` \\| `cli` \\| `tool`");
//! ```

use crate::vocab::{BinaryKind, BinaryReady, ReadyGate, Relation, RestartPolicy};

/// What a key's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A string.
    String,
    /// An array of strings.
    Strings,
    /// A table whose values are strings.
    StringTable,
    /// A duration written as a string (`"30s"`, `"1m 30s"`).
    Duration,
    /// A whole number.
    Integer,
    /// A table of its own keys.
    Table,
    /// One of these spellings.
    OneOf(&'static [&'static str]),
}

impl Value {
    /// How the README's type column starts for it: `string`, `array of strings`, or the
    /// spellings as `` `a` \| `b` `` (escaped for a Markdown table).
    pub fn readme(&self) -> String {
        match self {
            Self::String => "string".into(),
            Self::Strings => "array of strings".into(),
            Self::StringTable => "table of strings".into(),
            Self::Duration => "duration".into(),
            Self::Integer => "integer".into(),
            Self::Table => "table".into(),
            Self::OneOf(names) => names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" \\| "),
        }
    }
}

/// One key of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// Its name in `service.toml`.
    pub name: &'static str,
    /// What its value is.
    pub value: Value,
}

/// One table of `service.toml` and its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// How the README heads it: `` `[[binaries]]` ``.
    pub header: &'static str,
    /// Its keys, in the README's order.
    pub keys: &'static [Key],
}

impl Table {
    /// The key named `name`.
    pub fn key(&self, name: &str) -> Option<&'static Key> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The names of its keys.
    pub fn names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.name).collect()
    }
}

const fn key(name: &'static str, value: Value) -> Key {
    Key { name, value }
}

/// The top level.
pub const TOP: Table = Table {
    header: "top level",
    keys: &[key("service", Value::Table), key("binaries", Value::Table), key("dependencies", Value::Table)],
};

/// `[service]`.
pub const SERVICE: Table = Table {
    header: "[service]",
    keys: &[key("name", Value::String), key("description", Value::String), key("profiles", Value::Strings)],
};

/// `[[binaries]]`.
pub const BINARY: Table = Table {
    header: "[[binaries]]",
    keys: &[
        key("name", Value::String),
        key("kind", Value::OneOf(BinaryKind::NAMES)),
        key("spawned_by", Value::String),
        key("socket", Value::String),
        key("ready", Value::OneOf(BinaryReady::NAMES)),
        key("args", Value::Strings),
        key("env", Value::StringTable),
        key("after", Value::Strings),
        key("start_timeout", Value::Duration),
        key("restart", Value::OneOf(RestartPolicy::NAMES)),
        key("description", Value::String),
        key("profiles", Value::Strings),
        key("watchdog", Value::Duration),
        key("health", Value::Table),
    ],
};

/// `[binaries.health]`.
pub const HEALTH: Table = Table {
    header: "[binaries.health]",
    keys: &[
        key("send", Value::String),
        key("expect", Value::String),
        key("exec", Value::Strings),
        key("interval", Value::Duration),
        key("timeout", Value::Duration),
        key("retries", Value::Integer),
        key("start_period", Value::Duration),
        key("start_interval", Value::Duration),
    ],
};

/// `[[dependencies]]`; `crate_name`, `bin_name` and `socket_name` are the other
/// spellings of `crate`, `bin` and `socket`.
pub const DEPENDENCY: Table = Table {
    header: "[[dependencies]]",
    keys: &[
        key("repo", Value::String),
        key("crate", Value::String),
        key("crate_name", Value::String),
        key("bin", Value::String),
        key("bin_name", Value::String),
        key("socket", Value::String),
        key("socket_name", Value::String),
        key("relation", Value::OneOf(Relation::NAMES)),
        key("ready", Value::OneOf(ReadyGate::NAMES)),
        key("timeout", Value::Duration),
        key("applies_to", Value::Strings),
        key("profiles", Value::Strings),
    ],
};

/// The tables the README documents, in its order.
pub const DOCUMENTED: &[Table] = &[SERVICE, BINARY, HEALTH, DEPENDENCY];
