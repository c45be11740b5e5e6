/*
 * moat-native: the few system calls Node.js has no binding for.
 *
 *   chroot(path), chdir(path)      chroot(2), chdir(2)
 *   noNewPrivs()                   prctl(2) PR_SET_NO_NEW_PRIVS, then seccomp(2)
 *                                  TSYNC to give it to every thread (Linux);
 *                                  procctl(2) PROC_NO_NEW_PRIVS_CTL (FreeBSD 14+)
 *   jailAttach(jid), jailId(name)  jail_attach(2), jail_get(2) (FreeBSD only)
 *   spawn(file, argv)              posix_spawn(3): own process group, default
 *                                  signal dispositions, empty signal mask,
 *                                  stdio on /dev/null, argv only (no shell)
 *   exited(pid)                    waitid(2) WNOHANG|WNOWAIT: has it ended?
 *   reap(pid)                      waitpid(2) WNOHANG: its status, reaped
 *
 * Every call's return value is checked; a failure throws an Error whose
 * `errno` is the C errno value and whose `syscall` names the one call that
 * failed (the JavaScript side adds the symbolic `code`, e.g. ENOENT). Nothing
 * here keeps state between calls, starts threads or installs signal handlers.
 *
 * Built by scripts/build-native.mjs with the system C compiler against the
 * node-api-headers package; it must compile clean under -Wall -Wextra -Werror.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif
#if defined(__FreeBSD__)
#include <sys/param.h>
#include <sys/jail.h>
#include <sys/procctl.h>
#include <sys/uio.h>
#endif

extern char **environ;

/* Bounds on what a caller may hand us: a path, and a command's argv. */
#define MAX_PATH_BYTES 4096
#define MAX_ARGS 4096
#define MAX_ARG_BYTES (128 * 1024)
#define MAX_ARGV_BYTES (1024 * 1024)
#define MAX_JAIL_NAME_BYTES 256

/* Throw a plain Error (a misuse from JavaScript, or a Node-API failure). */
static void throw_plain(napi_env env, const char *message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  (void)napi_throw_error(env, NULL, message);
}

/* Throw `syscall: strerror(err)` with err.errno, err.syscall and, if given, err.path. */
static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char message[512];
  napi_value msg, error, value;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  if (path != NULL) {
    (void)snprintf(message, sizeof message, "%s %s: %s", syscall, path, strerror(err));
  } else {
    (void)snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  }
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok) {
    throw_plain(env, message);
    return;
  }
  if (napi_create_int32(env, err, &value) != napi_ok || napi_set_named_property(env, error, "errno", value) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", value) != napi_ok) {
    throw_plain(env, message);
    return;
  }
  if (path != NULL && (napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value) != napi_ok ||
                       napi_set_named_property(env, error, "path", value) != napi_ok)) {
    throw_plain(env, message);
    return;
  }
  (void)napi_throw(env, error);
}

static napi_value undefined_value(napi_env env) {
  napi_value u;
  if (napi_get_undefined(env, &u) != napi_ok) return NULL;
  return u;
}

/*
 * Copy a JavaScript string into a new NUL-terminated buffer of at most `max`
 * bytes. A string holding a NUL is refused: the kernel would see only the part
 * before it. Returns NULL with an exception pending.
 */
static char *get_string(napi_env env, napi_value value, size_t max, const char *what) {
  size_t len = 0, copied = 0;
  char *buf;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    (void)napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    throw_plain(env, "cannot read a string argument");
    return NULL;
  }
  if (len >= max) {
    (void)napi_throw_range_error(env, NULL, what);
    return NULL;
  }
  buf = malloc(len + 1);
  if (buf == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, buf, len + 1, &copied) != napi_ok || copied != len) {
    free(buf);
    throw_plain(env, "cannot read a string argument");
    return NULL;
  }
  if (strlen(buf) != len) {
    free(buf);
    (void)napi_throw_type_error(env, NULL, "argument contains a NUL character");
    return NULL;
  }
  return buf;
}

/* The arguments of a call, exactly `want` of them. */
static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_plain(env, "cannot read the arguments");
    return false;
  }
  if (argc != want) {
    (void)napi_throw_type_error(env, NULL, "wrong number of arguments");
    return false;
  }
  return true;
}

static bool get_pid(napi_env env, napi_value value, pid_t *pid) {
  int32_t n = 0;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_int32(env, value, &n) != napi_ok || n <= 0) {
    (void)napi_throw_type_error(env, NULL, "want a process id (a positive integer)");
    return false;
  }
  *pid = (pid_t)n;
  return true;
}

static napi_value path_call(napi_env env, napi_callback_info info, int (*call)(const char *), const char *name) {
  napi_value argv[1];
  char *path;
  if (!get_args(env, info, 1, argv)) return NULL;
  path = get_string(env, argv[0], MAX_PATH_BYTES, "want a path");
  if (path == NULL) return NULL;
  if (call(path) == -1) {
    int err = errno;
    throw_errno(env, err, name, path);
    free(path);
    return NULL;
  }
  free(path);
  return undefined_value(env);
}

static int do_chroot(const char *path) { return chroot(path); }
static int do_chdir(const char *path) { return chdir(path); }

static napi_value Chroot(napi_env env, napi_callback_info info) { return path_call(env, info, do_chroot, "chroot"); }
static napi_value Chdir(napi_env env, napi_callback_info info) { return path_call(env, info, do_chdir, "chdir"); }

/*
 * No new privileges from execve(2) (setuid bits, file capabilities) for the
 * whole process. Returns false where the system has no such control.
 *
 * On Linux no_new_privs belongs to a thread, and Node's threads (V8's
 * platform workers, libuv's pool) exist long before this is called, so
 * prctl(2) alone would leave them able to execve a setuid file. seccomp(2)
 * with SECCOMP_FILTER_FLAG_TSYNC copies the caller's no_new_privs to every
 * thread of the process (kernel/seccomp.c, seccomp_sync_threads); the filter
 * it installs allows every system call, so it changes nothing else.
 * SECCOMP_FILTER_FLAG_SPEC_ALLOW keeps the kernel from forcing speculation
 * mitigations (SSBD, STIBP) on the process because it now has a filter:
 * kernels before 5.16 default to spec_store_bypass_disable=seccomp, which
 * would make the confined daemon slower than the unconfined one for a
 * filter that sandboxes nothing (Documentation/admin-guide/kernel-parameters).
 */
#if defined(__linux__)
#ifdef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SPEC_ALLOW SECCOMP_FILTER_FLAG_SPEC_ALLOW
#else
#define SPEC_ALLOW 0
#endif
#endif
static napi_value NoNewPrivs(napi_env env, napi_callback_info info) {
  napi_value result;
  bool done = false;
  (void)info;
#if defined(__linux__)
  {
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {(unsigned short)(sizeof allow / sizeof allow[0]), allow};
    long rc;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == -1) {
      throw_errno(env, errno, "prctl", NULL);
      return NULL;
    }
    rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC | SPEC_ALLOW, &prog);
    if (rc == -1 && errno == EINVAL && SPEC_ALLOW != 0) {
      /* A kernel older than 4.17 does not know SPEC_ALLOW. */
      rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
    }
    if (rc == -1) {
      throw_errno(env, errno, "seccomp", NULL);
      return NULL;
    }
    if (rc != 0) {
      /* The id of a thread that could not be synchronised. */
      throw_errno(env, ESRCH, "seccomp TSYNC", NULL);
      return NULL;
    }
  }
  done = true;
#elif defined(__FreeBSD__) && defined(PROC_NO_NEW_PRIVS_CTL)
  {
    int arg = PROC_NO_NEW_PRIVS_ENABLE;
    if (procctl(P_PID, getpid(), PROC_NO_NEW_PRIVS_CTL, &arg) == -1) {
      throw_errno(env, errno, "procctl", NULL);
      return NULL;
    }
    done = true;
  }
#endif
  if (napi_get_boolean(env, done, &result) != napi_ok) return NULL;
  return result;
}

/* jail_attach(2): enter an existing jail; the kernel sets root and cwd to its path. */
static napi_value JailAttach(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t jid = 0;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &jid) != napi_ok || jid <= 0) {
    (void)napi_throw_type_error(env, NULL, "want a jail id (a positive integer)");
    return NULL;
  }
#if defined(__FreeBSD__)
  if (jail_attach(jid) == -1) {
    throw_errno(env, errno, "jail_attach", NULL);
    return NULL;
  }
  return undefined_value(env);
#else
  throw_errno(env, ENOSYS, "jail_attach", NULL);
  return NULL;
#endif
}

/* The id of the jail called `name`, through jail_get(2) with the "name" parameter. */
static napi_value JailId(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *name;
  if (!get_args(env, info, 1, argv)) return NULL;
  name = get_string(env, argv[0], MAX_JAIL_NAME_BYTES, "want a jail name");
  if (name == NULL) return NULL;
#if defined(__FreeBSD__)
  {
    struct iovec iov[4];
    char errmsg[256];
    int jid;
    napi_value result;
    errmsg[0] = '\0';
    iov[0].iov_base = (void *)(uintptr_t) "name";
    iov[0].iov_len = sizeof "name";
    iov[1].iov_base = name;
    iov[1].iov_len = strlen(name) + 1;
    iov[2].iov_base = (void *)(uintptr_t) "errmsg";
    iov[2].iov_len = sizeof "errmsg";
    iov[3].iov_base = errmsg;
    iov[3].iov_len = sizeof errmsg;
    jid = jail_get(iov, 4, 0);
    if (jid == -1) {
      int err = errno;
      throw_errno(env, err, "jail_get", name);
      free(name);
      return NULL;
    }
    free(name);
    if (napi_create_int32(env, jid, &result) != napi_ok) return NULL;
    return result;
  }
#else
  throw_errno(env, ENOSYS, "jail_get", name);
  free(name);
  return NULL;
#endif
}

static void free_argv(char **argv, uint32_t n) {
  uint32_t i;
  if (argv == NULL) return;
  for (i = 0; i < n; i++) free(argv[i]);
  free(argv);
}

/* Set up the attributes and file actions of a spawn; false with an exception pending. */
static bool spawn_setup(napi_env env, posix_spawnattr_t *attr, posix_spawn_file_actions_t *fa) {
  sigset_t none, all;
  int rc;
  /* Node ignores SIGPIPE and may block signals in this thread: a command gets
   * the defaults, as from a shell. SIGKILL and SIGSTOP cannot be changed. */
  if (sigemptyset(&none) == -1 || sigfillset(&all) == -1 || sigdelset(&all, SIGKILL) == -1 || sigdelset(&all, SIGSTOP) == -1) {
    throw_errno(env, errno, "sigsetops", NULL);
    return false;
  }
  if ((rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0) {
    throw_errno(env, rc, "posix_spawnattr_setflags", NULL);
    return false;
  }
  /* Process group 0: the child leads a new group whose id is its pid, set
   * before exec, so one kill(-pid) reaches everything the command starts. */
  if ((rc = posix_spawnattr_setpgroup(attr, 0)) != 0) {
    throw_errno(env, rc, "posix_spawnattr_setpgroup", NULL);
    return false;
  }
  if ((rc = posix_spawnattr_setsigmask(attr, &none)) != 0) {
    throw_errno(env, rc, "posix_spawnattr_setsigmask", NULL);
    return false;
  }
  if ((rc = posix_spawnattr_setsigdefault(attr, &all)) != 0) {
    throw_errno(env, rc, "posix_spawnattr_setsigdefault", NULL);
    return false;
  }
  if ((rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
      (rc = posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0)) != 0 ||
      (rc = posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0)) != 0) {
    throw_errno(env, rc, "posix_spawn_file_actions_addopen", "/dev/null");
    return false;
  }
  return true;
}

/*
 * spawn(file, argv): start `file` (searched on PATH when it holds no slash)
 * with exactly `argv`, in a new process group, stdio on /dev/null, this
 * process's environment. Returns the pid. glibc and FreeBSD's libc start the
 * child with vfork semantics (the parent copies no page tables) and report an
 * exec failure as posix_spawn's own error, with the child already reaped.
 */
static napi_value Spawn(napi_env env, napi_callback_info info) {
  napi_value args[2], result;
  char *file = NULL;
  char **argv = NULL;
  uint32_t n = 0, filled = 0, i;
  size_t total = 0;
  bool is_array = false;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t fa;
  pid_t pid = 0;
  int rc;

  if (!get_args(env, info, 2, args)) return NULL;
  if (napi_is_array(env, args[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, args[1], &n) != napi_ok || n == 0 || n > MAX_ARGS) {
    (void)napi_throw_type_error(env, NULL, "want argv: an array of 1 to 4096 strings");
    return NULL;
  }
  file = get_string(env, args[0], MAX_PATH_BYTES, "want the file to run");
  if (file == NULL) return NULL;
  argv = calloc((size_t)n + 1, sizeof *argv);
  if (argv == NULL) {
    free(file);
    throw_errno(env, ENOMEM, "calloc", NULL);
    return NULL;
  }
  for (i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, args[1], i, &el) != napi_ok) {
      throw_plain(env, "cannot read argv");
      goto fail_args;
    }
    argv[i] = get_string(env, el, MAX_ARG_BYTES, "want argv: strings of under 128 KiB");
    if (argv[i] == NULL) goto fail_args;
    filled = i + 1;
    total += strlen(argv[i]) + 1;
    if (total > MAX_ARGV_BYTES) {
      (void)napi_throw_range_error(env, NULL, "argv is over 1 MiB");
      goto fail_args;
    }
  }

  if ((rc = posix_spawnattr_init(&attr)) != 0) {
    throw_errno(env, rc, "posix_spawnattr_init", NULL);
    goto fail_args;
  }
  if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
    throw_errno(env, rc, "posix_spawn_file_actions_init", NULL);
    goto fail_attr;
  }
  if (!spawn_setup(env, &attr, &fa)) goto fail_fa;
  rc = strchr(file, '/') != NULL ? posix_spawn(&pid, file, &fa, &attr, argv, environ) : posix_spawnp(&pid, file, &fa, &attr, argv, environ);
  if (rc != 0) {
    throw_errno(env, rc, strchr(file, '/') != NULL ? "posix_spawn" : "posix_spawnp", file);
    goto fail_fa;
  }
  /* The child runs; failing to free the attributes now must not hide its pid. */
  (void)posix_spawn_file_actions_destroy(&fa);
  (void)posix_spawnattr_destroy(&attr);
  free_argv(argv, filled);
  free(file);
  if (napi_create_int32(env, (int32_t)pid, &result) != napi_ok) return NULL;
  return result;

fail_fa:
  (void)posix_spawn_file_actions_destroy(&fa);
fail_attr:
  (void)posix_spawnattr_destroy(&attr);
fail_args:
  free_argv(argv, filled);
  free(file);
  return NULL;
}

/*
 * exited(pid): has child `pid` ended? It is left a zombie (WNOWAIT), so its
 * pid, which is also its process group's id, cannot be reused until reap():
 * a kill(-pid) in between still reaches only the command's own group.
 */
static napi_value Exited(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  pid_t pid = 0;
  siginfo_t si;
  if (!get_args(env, info, 1, argv) || !get_pid(env, argv[0], &pid)) return NULL;
  /* POSIX leaves si_pid unset when nothing has ended; zero it first. */
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
    throw_errno(env, errno, "waitid", NULL);
    return NULL;
  }
  if (napi_get_boolean(env, si.si_pid != 0, &result) != napi_ok) return NULL;
  return result;
}

/* reap(pid): undefined while it runs; else { code } or { signal } (numbers), and it is reaped. */
static napi_value Reap(napi_env env, napi_callback_info info) {
  napi_value argv[1], result, value;
  pid_t pid = 0, got;
  int status = 0;
  if (!get_args(env, info, 1, argv) || !get_pid(env, argv[0], &pid)) return NULL;
  got = waitpid(pid, &status, WNOHANG);
  if (got == -1) {
    throw_errno(env, errno, "waitpid", NULL);
    return NULL;
  }
  if (got == 0) return undefined_value(env);
  if (napi_create_object(env, &result) != napi_ok) return NULL;
  if (WIFEXITED(status)) {
    if (napi_create_int32(env, WEXITSTATUS(status), &value) != napi_ok || napi_set_named_property(env, result, "code", value) != napi_ok) return NULL;
  } else if (WIFSIGNALED(status)) {
    if (napi_create_int32(env, WTERMSIG(status), &value) != napi_ok || napi_set_named_property(env, result, "signal", value) != napi_ok) return NULL;
  }
  return result;
}

static bool export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok && napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_fn(env, exports, "chroot", Chroot) || !export_fn(env, exports, "chdir", Chdir) || !export_fn(env, exports, "noNewPrivs", NoNewPrivs) ||
      !export_fn(env, exports, "jailAttach", JailAttach) || !export_fn(env, exports, "jailId", JailId) || !export_fn(env, exports, "spawn", Spawn) ||
      !export_fn(env, exports, "exited", Exited) || !export_fn(env, exports, "reap", Reap)) {
    throw_plain(env, "moat-native: cannot export its functions");
    return NULL;
  }
  return exports;
}
