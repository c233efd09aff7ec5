/*
 * A power-loss simulator for the engine's files, loaded with LD_PRELOAD into a child process
 * by tests/tests/powerloss.rs. Test-only; never part of a build of the engine.
 *
 * Model: only what was synced survives a power loss. For every file under POWERLOSS_ROOT it
 * keeps, in POWERLOSS_SHADOW, the content as of the file's last completed fsync/fdatasync
 * (sync_file_range, which flushes neither the disk's cache nor the file's size, counts for
 * nothing), and for every directory the entries (name and inode) as of the directory's last
 * fsync. After the child is killed, the test rebuilds the data directory from the shadow
 * alone: directories hold exactly their synced entries, each file exactly its synced bytes
 * (a file whose data was never synced is empty). That is a stricter disk than ext4 in
 * ordered mode, and the one POSIX promises.
 *
 * What it intercepts: open/open64/openat/openat64 (to know which descriptors are the
 * engine's files), write/writev/pwrite/pwrite64 (the ranges each inode has dirty),
 * fsync/fdatasync (copy the dirty ranges to the shadow; list a directory), close.
 * Everything that exists under the root when the process starts counts as synced.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 65536
#define MAX_INODES 4096

struct range {
    off_t off;
    size_t len;
};

struct inode_state {
    dev_t dev;
    ino_t ino;
    /* Which file this inode number is now: a new file on a reused inode number gets the next
     * generation, so the synced bytes of the file it replaces (still named in a directory
     * listing that was synced before the unlink) are kept apart from its own. */
    unsigned long long gen;
    struct range *ranges;
    size_t n, cap;
};

struct fd_state {
    int tracked;
    int is_dir;
    dev_t dev;
    ino_t ino;
    char rel[PATH_MAX]; /* path relative to the root ("." for the root) */
};

static char root[PATH_MAX];
static size_t root_len;
static char shadow[PATH_MAX];
static int enabled;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static __thread int inside;
static struct fd_state *fds;
static struct inode_state inodes[MAX_INODES];
static size_t n_inodes;
static unsigned long long generations;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void die(const char *what) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "powerloss shim: %s: %s\n", what, strerror(errno));
    if (real_write && n > 0) real_write(2, buf, (size_t)n);
    _exit(99);
}

static void resolve(void) {
    if (real_write) return;
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_openat64 = dlsym(RTLD_NEXT, "openat64");
    real_close = dlsym(RTLD_NEXT, "close");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_write = dlsym(RTLD_NEXT, "write");
}

static void write_all(int fd, const void *buf, size_t len, off_t off) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = real_pwrite64(fd, p, len, off);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("writing the shadow");
        }
        p += w;
        off += w;
        len -= (size_t)w;
    }
}

static void shadow_path(char *out, ino_t ino, unsigned long long gen) {
    snprintf(out, PATH_MAX, "%s/inodes/%llu.%llu", shadow, (unsigned long long)ino, gen);
}

/* The generation an inode number stands for now (0 for files older than the process). */
static unsigned long long gen_of(dev_t dev, ino_t ino) {
    for (size_t i = 0; i < n_inodes; i++)
        if (inodes[i].dev == dev && inodes[i].ino == ino) return inodes[i].gen;
    return 0;
}

static void listing_path(char *out, const char *rel) {
    char esc[PATH_MAX];
    size_t i;
    for (i = 0; rel[i] && i + 1 < sizeof esc; i++) esc[i] = rel[i] == '/' ? '%' : rel[i];
    esc[i] = 0;
    /* Prefixed, so that the root's "." names a file like any other. */
    snprintf(out, PATH_MAX, "%s/dirs/_%s", shadow, esc);
}

static struct inode_state *inode_of(dev_t dev, ino_t ino) {
    for (size_t i = 0; i < n_inodes; i++)
        if (inodes[i].dev == dev && inodes[i].ino == ino) return &inodes[i];
    if (n_inodes == MAX_INODES) {
        errno = ENOSPC;
        die("too many inodes");
    }
    struct inode_state *s = &inodes[n_inodes++];
    memset(s, 0, sizeof *s);
    s->dev = dev;
    s->ino = ino;
    return s;
}

static void add_range(struct inode_state *s, off_t off, size_t len) {
    if (len == 0) return;
    if (s->n > 0) {
        struct range *last = &s->ranges[s->n - 1];
        if (last->off + (off_t)last->len == off) {
            last->len += len;
            return;
        }
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ranges = realloc(s->ranges, s->cap * sizeof *s->ranges);
        if (!s->ranges) die("realloc");
    }
    s->ranges[s->n].off = off;
    s->ranges[s->n].len = len;
    s->n++;
}

/* Copies a file's dirty ranges (read through `fd`, reopened for reading: it may be
 * write-only) into its shadow and sets its size. */
static void sync_inode(int written_fd, struct inode_state *s) {
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/fd/%d", written_fd);
    int fd = real_open64(path, O_RDONLY);
    if (fd < 0) die("reopening a file to read it");
    if (fstat(fd, &st) < 0) die("fstat");
    shadow_path(path, s->ino, s->gen);
    int out = real_open64(path, O_WRONLY | O_CREAT, 0644);
    if (out < 0) die("opening a shadow file");
    char *buf = malloc(1 << 20);
    if (!buf) die("malloc");
    for (size_t i = 0; i < s->n; i++) {
        off_t off = s->ranges[i].off;
        size_t left = s->ranges[i].len;
        while (left > 0) {
            size_t want = left < (1 << 20) ? left : (1 << 20);
            ssize_t r = pread(fd, buf, want, off);
            if (r < 0) {
                if (errno == EINTR) continue;
                die("reading a dirty range");
            }
            if (r == 0) break; /* truncated since: the size below settles it */
            write_all(out, buf, (size_t)r, off);
            off += r;
            left -= (size_t)r;
        }
    }
    free(buf);
    if (ftruncate(out, st.st_size) < 0) die("sizing a shadow file");
    real_close(out);
    real_close(fd);
    s->n = 0;
}

/* Records the entries of the directory `abs` (relative path `rel`) as synced. */
static void sync_dir(const char *abs, const char *rel) {
    char path[PATH_MAX], tmp[PATH_MAX];
    listing_path(path, rel);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    DIR *d = opendir(abs);
    if (!d) die("listing a directory");
    int out = real_open64(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) die("opening a listing");
    off_t at = 0;
    struct dirent *e;
    struct stat dst;
    if (fstat(dirfd(d), &dst) < 0) die("fstat of a directory");
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char line[PATH_MAX + 64];
        int n = snprintf(line, sizeof line, "%c\t%llu.%llu\t%s\n", e->d_type == DT_DIR ? 'd' : 'f',
                         (unsigned long long)e->d_ino, gen_of(dst.st_dev, e->d_ino), e->d_name);
        write_all(out, line, (size_t)n, at);
        at += n;
    }
    closedir(d);
    real_close(out);
    if (rename(tmp, path) < 0) die("renaming a listing");
}

/* Everything under the root at start counts as synced: copy it to the shadow. */
static void baseline(const char *abs, const char *rel) {
    sync_dir(abs, rel);
    DIR *d = opendir(abs);
    if (!d) die("opening a directory at start");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char child_abs[PATH_MAX], child_rel[PATH_MAX];
        snprintf(child_abs, sizeof child_abs, "%s/%s", abs, e->d_name);
        if (!strcmp(rel, "."))
            snprintf(child_rel, sizeof child_rel, "%s", e->d_name);
        else
            snprintf(child_rel, sizeof child_rel, "%s/%s", rel, e->d_name);
        struct stat st;
        if (lstat(child_abs, &st) < 0) die("lstat at start");
        if (S_ISDIR(st.st_mode)) {
            baseline(child_abs, child_rel);
        } else if (S_ISREG(st.st_mode)) {
            int fd = real_open64(child_abs, O_RDONLY);
            if (fd < 0) die("opening a file at start");
            struct inode_state *s = inode_of(st.st_dev, st.st_ino);
            add_range(s, 0, (size_t)st.st_size);
            sync_inode(fd, s);
            real_close(fd);
        }
    }
    closedir(d);
}

__attribute__((constructor)) static void start(void) {
    resolve();
    const char *r = getenv("POWERLOSS_ROOT");
    const char *sh = getenv("POWERLOSS_SHADOW");
    if (!r || !sh) return;
    inside = 1;
    if (!realpath(r, root)) die("POWERLOSS_ROOT");
    root_len = strlen(root);
    snprintf(shadow, sizeof shadow, "%s", sh);
    char p[PATH_MAX];
    mkdir(shadow, 0755);
    snprintf(p, sizeof p, "%s/inodes", shadow);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/dirs", shadow);
    mkdir(p, 0755);
    fds = calloc(MAX_FDS, sizeof *fds);
    if (!fds) die("calloc");
    baseline(root, ".");
    enabled = 1;
    inside = 0;
}

/* Starts tracking `fd` if it is a file or directory under the root. `existed`: whether the
 * path was there before an O_CREAT open (a new file's shadow starts empty). */
static void track(int fd, int existed) {
    if (fd < 0 || fd >= MAX_FDS) return;
    char link[64], abs[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, abs, sizeof abs - 1);
    if (n < 0) return;
    abs[n] = 0;
    if (strncmp(abs, root, root_len) != 0 || (abs[root_len] != 0 && abs[root_len] != '/')) return;
    struct stat st;
    if (fstat(fd, &st) < 0) return;
    pthread_mutex_lock(&mu);
    struct fd_state *f = &fds[fd];
    f->tracked = 1;
    f->is_dir = S_ISDIR(st.st_mode);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    snprintf(f->rel, sizeof f->rel, "%s", abs[root_len] ? abs + root_len + 1 : ".");
    if (!f->is_dir) {
        struct inode_state *s = inode_of(st.st_dev, st.st_ino);
        if (!existed) {
            /* A new file (perhaps on a reused inode number): a new generation, nothing of
             * which is synced yet. */
            s->gen = ++generations;
            s->n = 0;
        }
    }
    pthread_mutex_unlock(&mu);
}

static int existed_before(int dirfd, const char *path, int flags) {
    if (!(flags & O_CREAT)) return 1;
    struct stat st;
    return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static mode_t mode_of(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(name, real)                                          \
    int name(const char *path, int flags, ...) {                          \
        va_list ap;                                                       \
        va_start(ap, flags);                                              \
        mode_t mode = mode_of(flags, ap);                                 \
        va_end(ap);                                                       \
        resolve();                                                        \
        if (inside || !enabled) return real(path, flags, mode);           \
        inside = 1;                                                       \
        int existed = existed_before(AT_FDCWD, path, flags);              \
        int fd = real(path, flags, mode);                                 \
        if (fd >= 0) track(fd, existed);                                  \
        inside = 0;                                                       \
        return fd;                                                        \
    }

#define OPENAT_WRAPPER(name, real)                                        \
    int name(int dirfd, const char *path, int flags, ...) {               \
        va_list ap;                                                       \
        va_start(ap, flags);                                              \
        mode_t mode = mode_of(flags, ap);                                 \
        va_end(ap);                                                       \
        resolve();                                                        \
        if (inside || !enabled) return real(dirfd, path, flags, mode);    \
        inside = 1;                                                       \
        int existed = existed_before(dirfd, path, flags);                 \
        int fd = real(dirfd, path, flags, mode);                          \
        if (fd >= 0) track(fd, existed);                                  \
        inside = 0;                                                       \
        return fd;                                                        \
    }

OPEN_WRAPPER(open, real_open)
OPEN_WRAPPER(open64, real_open64)
OPENAT_WRAPPER(openat, real_openat)
OPENAT_WRAPPER(openat64, real_openat64)

int close(int fd) {
    resolve();
    if (enabled && fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&mu);
        fds[fd].tracked = 0;
        pthread_mutex_unlock(&mu);
    }
    return real_close(fd);
}

static void wrote(int fd, off_t off, ssize_t len) {
    if (!enabled || len <= 0 || fd < 0 || fd >= MAX_FDS) return;
    pthread_mutex_lock(&mu);
    struct fd_state *f = &fds[fd];
    if (f->tracked && !f->is_dir) add_range(inode_of(f->dev, f->ino), off, (size_t)len);
    pthread_mutex_unlock(&mu);
}

static int is_tracked(int fd) {
    return enabled && !inside && fd >= 0 && fd < MAX_FDS && fds[fd].tracked;
}

ssize_t write(int fd, const void *buf, size_t n) {
    resolve();
    if (!is_tracked(fd)) return real_write(fd, buf, n);
    off_t off = lseek(fd, 0, SEEK_CUR);
    ssize_t r = real_write(fd, buf, n);
    wrote(fd, off, r);
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    resolve();
    if (!is_tracked(fd)) return real_writev(fd, iov, cnt);
    off_t off = lseek(fd, 0, SEEK_CUR);
    ssize_t r = real_writev(fd, iov, cnt);
    wrote(fd, off, r);
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    resolve();
    ssize_t r = real_pwrite(fd, buf, n, off);
    if (is_tracked(fd)) wrote(fd, off, r);
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
    resolve();
    ssize_t r = real_pwrite64(fd, buf, n, off);
    if (is_tracked(fd)) wrote(fd, off, r);
    return r;
}

static int synced(int fd, int (*real)(int)) {
    resolve();
    int r = real(fd);
    if (r != 0 || !is_tracked(fd)) return r;
    inside = 1;
    pthread_mutex_lock(&mu);
    struct fd_state *f = &fds[fd];
    if (f->is_dir) {
        char abs[PATH_MAX];
        if (!strcmp(f->rel, "."))
            snprintf(abs, sizeof abs, "%s", root);
        else
            snprintf(abs, sizeof abs, "%s/%s", root, f->rel);
        sync_dir(abs, f->rel);
    } else {
        sync_inode(fd, inode_of(f->dev, f->ino));
    }
    pthread_mutex_unlock(&mu);
    inside = 0;
    return r;
}

int fsync(int fd) { return synced(fd, real_fsync); }
int fdatasync(int fd) { return synced(fd, real_fdatasync); }
