// sysexits(3): BSD tools give their exit codes these meanings, and moat follows them.
export const EX_OK = 0;
/** A check found problems (like `ifstated -n` or a lint rule firing). */
export const EX_FAIL = 1;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOINPUT = 66;
export const EX_NOUSER = 67;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_OSERR = 71;
export const EX_CANTCREAT = 73;
export const EX_IOERR = 74;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;
