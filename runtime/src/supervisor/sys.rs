//! The few system calls whose error the monitor acts on, made so that they return the
//! error instead of leaving it in `errno`.
//!
//! On x86-64 the monitors share the spawner's memory (see `spawner`), and with it the
//! spawner's thread-local storage, where glibc keeps `errno`: a wrapper's `errno` read
//! back in one monitor could be another's. These calls go to the kernel directly and
//! return what it said. Elsewhere monitors are forked, `errno` is their own, and these
//! are glibc's wrappers.

use std::ffi::{c_char, c_int, c_void};

/// A monitor's entry point, or the daemon's side of its clone.
pub type Entry = extern "C" fn(*mut c_void) -> c_int;

/// Whether monitors share the spawner's memory on this architecture.
pub const SHARED_MONITORS: bool = cfg!(target_arch = "x86_64");

#[cfg(target_arch = "x86_64")]
mod imp {
    use super::{Entry, c_char, c_int, c_void};

    unsafe fn syscall3(n: libc::c_long, a: usize, b: usize, c: usize) -> isize {
        let ret: isize;
        // SAFETY: the caller passes arguments the system call `n` accepts.
        unsafe {
            core::arch::asm!(
                "syscall",
                inlateout("rax") n as isize => ret,
                in("rdi") a,
                in("rsi") b,
                in("rdx") c,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }

    fn result(ret: isize) -> Result<usize, i32> {
        // The kernel returns -errno, from -4095 up to -1, for a failure.
        if (-4095..0).contains(&ret) { Err(i32::try_from(-ret).unwrap_or(libc::EIO)) } else { Ok(ret.cast_unsigned()) }
    }

    pub unsafe fn read(fd: c_int, buf: *mut u8, len: usize) -> Result<usize, i32> {
        // SAFETY: the caller's buffer.
        result(unsafe { syscall3(libc::SYS_read, fd.cast_unsigned() as usize, buf as usize, len) })
    }

    pub unsafe fn write(fd: c_int, buf: *const u8, len: usize) -> Result<usize, i32> {
        // SAFETY: the caller's buffer.
        result(unsafe { syscall3(libc::SYS_write, fd.cast_unsigned() as usize, buf as usize, len) })
    }

    pub unsafe fn open(path: *const c_char, flags: c_int) -> Result<c_int, i32> {
        // SAFETY: a NUL-terminated path, the caller's; no mode (never O_CREAT here).
        let fd = result(unsafe { syscall3(libc::SYS_open, path as usize, flags.cast_unsigned() as usize, 0) })?;
        Ok(c_int::try_from(fd).unwrap_or(c_int::MAX))
    }

    pub unsafe fn chdir(path: *const c_char) -> Result<(), i32> {
        // SAFETY: a NUL-terminated path, the caller's.
        result(unsafe { syscall3(libc::SYS_chdir, path as usize, 0, 0) }).map(drop)
    }

    pub unsafe fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
        // SAFETY: NUL-terminated strings and NULL-terminated arrays, the caller's.
        let ret = unsafe { syscall3(libc::SYS_execve, path as usize, argv as usize, envp as usize) };
        result(ret).err().unwrap_or(libc::EIO)
    }

    pub unsafe fn clone(
        flags: c_int,
        stack_top: *mut u8,
        child_tid: *mut u32,
        entry: Entry,
        arg: *mut c_void,
    ) -> Result<c_int, i32> {
        let ret: isize;
        // SAFETY: the child starts on `stack_top` (16-byte aligned, so the call below
        // leaves the callee's stack as the ABI wants it), runs `entry(arg)` and ends with
        // `exit` if it returns: it never comes back into the code that follows. The parent
        // returns from the system call as from any other.
        unsafe {
            core::arch::asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "xor ebp, ebp",
                "mov rdi, r12",
                "call r13",
                "mov edi, eax",
                "mov eax, {exit}",
                "syscall",
                "ud2",
                "2:",
                exit = const libc::SYS_exit,
                inlateout("rax") libc::SYS_clone as isize => ret,
                in("rdi") flags as usize,
                in("rsi") stack_top,
                in("rdx") 0usize,
                in("r10") child_tid,
                in("r8") 0usize,
                in("r12") arg,
                in("r13") entry,
                lateout("rcx") _,
                lateout("r11") _,
            );
        }
        result(ret).map(|pid| c_int::try_from(pid).unwrap_or(c_int::MAX))
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    use super::{Entry, c_char, c_int, c_void};

    fn errno() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
    }

    pub unsafe fn read(fd: c_int, buf: *mut u8, len: usize) -> Result<usize, i32> {
        // SAFETY: the caller's buffer.
        let n = unsafe { libc::read(fd, buf.cast(), len) };
        usize::try_from(n).map_err(|_| errno())
    }

    pub unsafe fn write(fd: c_int, buf: *const u8, len: usize) -> Result<usize, i32> {
        // SAFETY: the caller's buffer.
        let n = unsafe { libc::write(fd, buf.cast(), len) };
        usize::try_from(n).map_err(|_| errno())
    }

    pub unsafe fn open(path: *const c_char, flags: c_int) -> Result<c_int, i32> {
        // SAFETY: the caller's path.
        let fd = unsafe { libc::open(path, flags) };
        if fd < 0 { Err(errno()) } else { Ok(fd) }
    }

    pub unsafe fn chdir(path: *const c_char) -> Result<(), i32> {
        // SAFETY: the caller's path.
        if unsafe { libc::chdir(path) } == 0 { Ok(()) } else { Err(errno()) }
    }

    pub unsafe fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
        // SAFETY: the caller's strings and arrays.
        unsafe { libc::execve(path, argv, envp) };
        errno()
    }

    pub unsafe fn clone(
        flags: c_int,
        stack_top: *mut u8,
        child_tid: *mut u32,
        entry: Entry,
        arg: *mut c_void,
    ) -> Result<c_int, i32> {
        // SAFETY: the caller's stack and entry point.
        let pid = unsafe {
            let none = std::ptr::null_mut::<c_void>();
            libc::clone(entry, stack_top.cast(), flags, arg, std::ptr::null_mut::<c_int>(), none, child_tid)
        };
        if pid < 0 { Err(errno()) } else { Ok(pid) }
    }
}

/// `read(2)`: the bytes read, or the error.
///
/// # Safety
///
/// `buf` is writable for `buf.len()` bytes.
pub unsafe fn read(fd: c_int, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: a live slice.
    unsafe { imp::read(fd, buf.as_mut_ptr(), buf.len()) }
}

/// `write(2)`: the bytes written, or the error.
///
/// # Safety
///
/// `fd` is an open descriptor of the caller's.
pub unsafe fn write(fd: c_int, buf: &[u8]) -> Result<usize, i32> {
    // SAFETY: a live slice.
    unsafe { imp::write(fd, buf.as_ptr(), buf.len()) }
}

/// `open(2)` without `O_CREAT`: the descriptor.
///
/// # Safety
///
/// `path` is NUL-terminated.
pub unsafe fn open(path: *const c_char, flags: c_int) -> Result<c_int, i32> {
    // SAFETY: as the caller promises.
    unsafe { imp::open(path, flags) }
}

/// `chdir(2)`.
///
/// # Safety
///
/// `path` is NUL-terminated.
pub unsafe fn chdir(path: *const c_char) -> Result<(), i32> {
    // SAFETY: as the caller promises.
    unsafe { imp::chdir(path) }
}

/// `execve(2)`; returns only if it failed, with the error.
///
/// # Safety
///
/// `path` is NUL-terminated, `argv` and `envp` are NULL-terminated arrays of such strings.
pub unsafe fn execve(path: *const c_char, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
    // SAFETY: as the caller promises.
    unsafe { imp::execve(path, argv, envp) }
}

/// `clone(2)` onto `stack_top`, the child running `entry(arg)`; the child's pid.
/// `child_tid` is where `CLONE_CHILD_CLEARTID` has the kernel write 0 when the child
/// exits (null without that flag).
///
/// # Safety
///
/// `stack_top` is the 16-byte aligned top of memory the child may use as its stack for as
/// long as it runs; `entry` must not return into anything but the exit that follows it,
/// and with `CLONE_VM` it may touch only memory that stays valid, unallocated-from, for
/// as long as it runs; so must `child_tid`.
pub unsafe fn clone(
    flags: c_int,
    stack_top: *mut u8,
    child_tid: *mut u32,
    entry: Entry,
    arg: *mut c_void,
) -> Result<c_int, i32> {
    // SAFETY: as the caller promises.
    unsafe { imp::clone(flags, stack_top, child_tid, entry, arg) }
}
