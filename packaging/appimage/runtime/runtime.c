/*
 * Confero's AppImage runtime (AppImage type 2).
 *
 * A type-2 AppImage is this program -- an ELF executable with the bytes "AI\x02"
 * at offset 8 -- followed by a SquashFS image of the AppDir that starts where
 * the ELF ends: the end of its section header table or of its last section,
 * whichever is later. Run, it mounts the image read-only with FUSE (squashfuse's
 * low-level operations on libfuse 3) on a new folder in $TMPDIR and runs
 * AppDir/AppRun from there in its own process, with APPIMAGE, APPDIR, ARGV0 and
 * OWD set. A FUSE server process serves the image; it unmounts it and removes
 * the folder once the app and every process that inherited the app's end of a
 * keep-alive pipe have exited (or were killed), waiting meanwhile for processes
 * that still use files of the image. Where FUSE cannot be had (containers
 * without /dev/fuse, no fusermount3) it extracts the image to a temporary
 * folder instead, runs AppRun from there and removes the folder afterwards;
 * APPIMAGE_EXTRACT_AND_RUN=1 or --appimage-extract-and-run skip the mount.
 *
 * Runtime options are recognised as the first argument only (see usage()).
 *
 * Written for Confero after the AppImage type-2 format and the behaviour of the
 * reference runtime, AppImage/type2-runtime (MIT licence, Copyright (c) 2004-24
 * Simon Peter and contributors): the option names, the environment the app
 * gets, the ELF size computation and the keep-alive pipe between the app and
 * the FUSE server follow it closely.
 */
#define _GNU_SOURCE
#include <squashfuse/ll.h>

#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RUNTIME_VERSION
#define RUNTIME_VERSION "1"
#endif

/* The runtime itself failed, as a shell says "cannot run" (the app's own exit
 * statuses stay the app's). */
#define EXIT_EXECERROR 127
/* How long the FUSE server keeps serving processes that still use the image
 * after the app has exited, before it detaches the mount anyway. */
#define BUSY_WAIT_MS 10000

static const char *prog = "AppImage"; /* the AppImage's file name, for messages */

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define die(...) (say(__VA_ARGS__), exit(EXIT_EXECERROR))

static void usage(void) {
    printf("Usage: %s [APPIMAGE OPTION | ARGUMENTS OF THE APP...]\n\n"
           "With no AppImage option it runs the app with the ARGUMENTS given. Options:\n"
           "  --appimage-extract [PATTERN]  extract the files (those matching the\n"
           "                                shell PATTERN) to ./squashfs-root\n"
           "  --appimage-extract-and-run [ARGUMENTS...]\n"
           "                                extract to a temporary folder, run the app,\n"
           "                                remove the folder (also APPIMAGE_EXTRACT_AND_RUN=1;\n"
           "                                NO_CLEANUP=1 keeps the folder)\n"
           "  --appimage-mount              mount the image, print where, wait for Ctrl+C\n"
           "  --appimage-offset             print where the SquashFS image starts\n"
           "  --appimage-version            print this runtime's version\n"
           "  --appimage-help               print this help\n"
           "VERBOSE=1 prints the paths --appimage-extract writes.\n",
           prog);
}

/* --- Where the image starts: the size of the ELF file ----------------------- */

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define ELFDATA_NATIVE ELFDATA2LSB
#else
#define ELFDATA_NATIVE ELFDATA2MSB
#endif

/* The end of an ELF file of class Ehdr/Shdr: its section header table or its
 * last section with contents in the file, whichever ends later. */
#define ELF_END(Ehdr, Shdr)                                                          \
    do {                                                                             \
        Ehdr eh;                                                                     \
        if (pread(fd, &eh, sizeof eh, 0) != (ssize_t) sizeof eh) return -1;          \
        end = (off_t) eh.e_shoff + (off_t) eh.e_shentsize * eh.e_shnum;              \
        for (unsigned i = 0; i < eh.e_shnum; i++) {                                  \
            Shdr sh;                                                                 \
            off_t at = (off_t) eh.e_shoff + (off_t) i * eh.e_shentsize;              \
            if (pread(fd, &sh, sizeof sh, at) != (ssize_t) sizeof sh) return -1;     \
            if (sh.sh_type != SHT_NOBITS && (off_t) (sh.sh_offset + sh.sh_size) > end) \
                end = (off_t) (sh.sh_offset + sh.sh_size);                           \
        }                                                                            \
    } while (0)

static off_t elf_size(int fd) {
    unsigned char ident[EI_NIDENT];
    off_t end = -1;
    if (pread(fd, ident, sizeof ident, 0) != EI_NIDENT || memcmp(ident, ELFMAG, SELFMAG) != 0 ||
        ident[EI_DATA] != ELFDATA_NATIVE)
        return -1;
    if (ident[EI_CLASS] == ELFCLASS64)
        ELF_END(Elf64_Ehdr, Elf64_Shdr);
    else if (ident[EI_CLASS] == ELFCLASS32)
        ELF_END(Elf32_Ehdr, Elf32_Shdr);
    return end;
}

/* --- Helpers ---------------------------------------------------------------- */

static const char *tmp_base(void) {
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

static bool env_set(const char *name) {
    const char *value = getenv(name);
    return value && *value && strcmp(value, "0") != 0;
}

/* The environment the app finds itself in (as every AppImage runtime sets it). */
static void set_app_env(const char *appimage, const char *appdir, const char *argv0) {
    char cwd[PATH_MAX];
    setenv("APPIMAGE", appimage, 1);
    setenv("APPDIR", appdir, 1);
    setenv("ARGV0", argv0, 1);
    if (getcwd(cwd, sizeof cwd)) setenv("OWD", cwd, 1);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void) st, (void) type, (void) ftw;
    if (remove(path) != 0) say("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

/* rm -rf, staying on this file system and never following links. */
static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT); }

static bool mkdir_parents(char *path) {
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int failed = mkdir(path, 0755) != 0 && errno != EEXIST;
        *slash = '/';
        if (failed) return false;
    }
    return true;
}

/* --- Extraction --------------------------------------------------------------- */

static bool write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buf += n, len -= (size_t) n;
    }
    return true;
}

/* Writes one file, folder or link of the image at path; first_path[n] holds the
 * path of inode n's first copy, so that hard links stay hard links. */
static bool extract_one(sqfs *fs, sqfs_inode *inode, const char *path, char **first_path) {
    mode_t mode = inode->base.mode;
    if (S_ISDIR(mode)) {
        /* Writable by us while we fill it, whatever the image says. */
        if (mkdir(path, (mode & 07777) | S_IRWXU) != 0 && errno != EEXIST) return false;
        return true;
    }
    if (unlink(path) != 0 && errno != ENOENT) return false;
    if (S_ISLNK(mode)) {
        size_t size;
        if (sqfs_readlink(fs, inode, NULL, &size) != SQFS_OK) return false;
        char *target = malloc(size);
        bool ok = target && sqfs_readlink(fs, inode, target, &size) == SQFS_OK &&
                  symlink(target, path) == 0;
        free(target);
        return ok;
    }
    if (!S_ISREG(mode)) {
        say("skipping %s: not a file, folder or link", path);
        return true;
    }
    uint32_t number = inode->base.inode_number;
    if (number <= fs->sb.inodes && first_path[number]) return link(first_path[number], path) == 0;

    static char buf[128 * 1024];
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) return false;
    bool ok = true;
    for (sqfs_off_t done = 0; ok && done < (sqfs_off_t) inode->xtra.reg.file_size;) {
        sqfs_off_t len = sizeof buf;
        ok = sqfs_read_range(fs, inode, done, &len, buf) == SQFS_OK && len > 0 &&
             write_all(out, buf, (size_t) len);
        done += len;
    }
    struct timespec times[2] = {{inode->base.mtime, 0}, {inode->base.mtime, 0}};
    ok = ok && fchmod(out, mode & 07777) == 0 && futimens(out, times) == 0;
    ok = close(out) == 0 && ok;
    if (ok && number <= fs->sb.inodes) first_path[number] = strdup(path);
    return ok;
}

/* Extracts the image's entries whose path matches pattern (all when NULL) into
 * dest, creating it. */
static bool extract(const char *appimage, off_t offset, const char *dest, const char *pattern,
                    bool verbose) {
    sqfs fs;
    sqfs_traverse trv;
    sqfs_err err = SQFS_OK;
    if (sqfs_open_image(&fs, appimage, (size_t) offset) != SQFS_OK) return false;
    fcntl(fs.fd, F_SETFD, FD_CLOEXEC);
    if (mkdir(dest, 0755) != 0 && errno != EEXIST) {
        say("cannot create %s: %s", dest, strerror(errno));
        sqfs_destroy(&fs);
        sqfs_fd_close(fs.fd);
        return false;
    }
    char **first_path = calloc((size_t) fs.sb.inodes + 1, sizeof *first_path);
    bool ok = first_path && sqfs_traverse_open(&trv, &fs, sqfs_inode_root(&fs)) == SQFS_OK;
    if (!ok) say("cannot read the image");
    while (ok && sqfs_traverse_next(&trv, &err)) {
        if (trv.dir_end) continue;
        if (pattern && fnmatch(pattern, trv.path, FNM_PATHNAME | FNM_LEADING_DIR) != 0) continue;
        char path[PATH_MAX];
        sqfs_inode inode;
        if ((size_t) snprintf(path, sizeof path, "%s/%s", dest, trv.path) >= sizeof path ||
            sqfs_inode_get(&fs, &inode, trv.entry.inode) != SQFS_OK) {
            say("cannot extract %s", trv.path);
            ok = false;
            break;
        }
        if (verbose) puts(path);
        /* With a pattern, an entry's folders may not have been extracted. */
        if (!(pattern ? mkdir_parents(path) : true) ||
            !extract_one(&fs, &inode, path, first_path)) {
            say("cannot extract %s: %s", path, strerror(errno));
            ok = false;
        }
    }
    if (ok && err != SQFS_OK) {
        say("cannot read the image");
        ok = false;
    }
    if (first_path) {
        sqfs_traverse_close(&trv);
        for (size_t i = 0; i <= fs.sb.inodes; i++) free(first_path[i]);
        free(first_path);
    }
    sqfs_destroy(&fs);
    sqfs_fd_close(fs.fd);
    return ok;
}

/* --- Running from an extracted copy --------------------------------------------- */

static pid_t app_pid;

/* TERM and HUP may be meant for the runtime alone: pass them on. INT and QUIT
 * come from the terminal, which sends them to the app as well. */
static void pass_signal(int sig) {
    if (sig == SIGTERM || sig == SIGHUP) kill(app_pid, sig);
}

static int run_extracted(const char *appimage, off_t offset, char **app_argv) {
    char dir[PATH_MAX], apprun[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/appimage_extracted_XXXXXX", tmp_base());
    if (!mkdtemp(dir)) die("cannot create a folder in %s: %s", tmp_base(), strerror(errno));
    if (!extract(appimage, offset, dir, NULL, false)) {
        rm_tree(dir);
        die("cannot extract the AppImage to %s", tmp_base());
    }
    snprintf(apprun, sizeof apprun, "%s/AppRun", dir);

    struct sigaction pass = {.sa_handler = pass_signal, .sa_flags = SA_RESTART};
    int signals[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};
    for (size_t i = 0; i < sizeof signals / sizeof *signals; i++)
        sigaction(signals[i], &pass, NULL);
    app_pid = fork();
    if (app_pid < 0) die("cannot start the app: %s", strerror(errno));
    if (app_pid == 0) { /* the handlers are reset to the default by exec */
        set_app_env(appimage, dir, app_argv[0]);
        execv(apprun, app_argv);
        say("cannot run %s: %s", apprun, strerror(errno));
        _exit(EXIT_EXECERROR);
    }
    int status = 0;
    while (waitpid(app_pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!env_set("NO_CLEANUP")) rm_tree(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --- Running from the mounted image ----------------------------------------------- */

struct server {
    struct fuse_session *session;
    pthread_t main_thread;
    const char *dir;
    int alive; /* the write end of the keep-alive pipe */
};

/* A normal (not lazy) unmount, which fails while a process uses the image. */
static bool unmount_if_unused(const char *dir) {
    if (geteuid() == 0) return umount2(dir, 0) == 0;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execlp("fusermount3", "fusermount3", "-u", "-q", "--", dir, (char *) NULL);
        execl("/bin/fusermount3", "fusermount3", "-u", "-q", "--", dir, (char *) NULL);
        _exit(1);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

/* Waits until no process holds the read end of the keep-alive pipe (the app and
 * whatever inherited it), then ends the session. */
static void *watch_app(void *arg) {
    struct server *server = arg;
    char fill[4096] = {0};
    /* Fill the pipe; the blocked write fails (EPIPE: libfuse ignores SIGPIPE)
     * once the last reader is gone. */
    while (write(server->alive, fill, sizeof fill) > 0 || errno == EINTR)
        ;
    /* The kernel ends the session when the unmount succeeds. */
    for (int waited = 0; waited < BUSY_WAIT_MS; waited += 100) {
        if (unmount_if_unused(server->dir)) return NULL;
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    say("files of the AppImage are still in use; detaching %s", server->dir);
    fuse_session_exit(server->session);
    pthread_kill(server->main_thread, SIGTERM); /* interrupts the read of the next request */
    return NULL;
}

/* The FUSE server: mounts the image on dir, tells the runtime through ready,
 * serves until the app is gone, unmounts, removes dir. */
static int serve(const char *appimage, off_t offset, const char *dir, int ready, int alive) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0), dup2(null, 1); /* stderr stays, for FUSE's errors */
    if (null > 2) close(null);

    sqfs_ll *ll = sqfs_ll_open(appimage, (size_t) offset);
    if (!ll || chdir("/") != 0) {
        rmdir(dir);
        return 1;
    }
    fcntl(ll->fs.fd, F_SETFD, FD_CLOEXEC); /* not for fusermount3 */
    struct fuse_lowlevel_ops ops = {
        .lookup = sqfs_ll_op_lookup,
        .forget = (void (*)(fuse_req_t, fuse_ino_t, uint64_t)) sqfs_ll_op_forget,
        .getattr = sqfs_ll_op_getattr,
        .readlink = sqfs_ll_op_readlink,
        .open = sqfs_ll_op_open,
        .read = sqfs_ll_op_read,
        .release = sqfs_ll_op_release,
        .opendir = sqfs_ll_op_opendir,
        .readdir = sqfs_ll_op_readdir,
        .releasedir = sqfs_ll_op_releasedir,
        .statfs = stfs_ll_op_statfs,
        .getxattr = sqfs_ll_op_getxattr,
        .listxattr = sqfs_ll_op_listxattr,
        .create = sqfs_ll_op_create,
    };
    /* The file system's name in /proc/mounts: the AppImage's file name. */
    char fsname[NAME_MAX + 1];
    snprintf(fsname, sizeof fsname, "%s", prog);
    for (char *c = fsname; *c; c++)
        if (*c == ',' || *c == '\\' || *c == ' ') *c = '_';
    /* auto_unmount has fusermount3 unmount the image should this server be
     * killed; without fusermount3, root can still mount with mount(2). */
    const char *variants[] = {"ro,auto_unmount", "ro"};
    size_t tries = geteuid() == 0 ? 2 : 1;
    struct fuse_session *session = NULL;
    for (size_t i = 0; i < tries && !session; i++) {
        char opts[NAME_MAX + 64];
        snprintf(opts, sizeof opts, "%s,fsname=%s,subtype=appimage", variants[i], fsname);
        char *argv[] = {(char *) prog, "-o", opts, NULL};
        struct fuse_args args = FUSE_ARGS_INIT(3, argv);
        session = fuse_session_new(&args, &ops, sizeof ops, ll);
        if (session && fuse_session_mount(session, dir) != 0) {
            fuse_session_destroy(session);
            session = NULL;
        }
        fuse_opt_free_args(&args);
    }
    if (!session || fuse_set_signal_handlers(session) != 0) {
        sqfs_ll_destroy(ll);
        rmdir(dir);
        return 1;
    }
    struct server server = {session, pthread_self(), dir, alive};
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, watch_app, &server) != 0 || write(ready, "", 1) != 1) {
        fuse_session_exit(session);
    } else {
        close(ready);
        fuse_session_loop(session);
    }
    fuse_remove_signal_handlers(session);
    fuse_session_unmount(session); /* lazy, if the watcher did not unmount it */
    fuse_session_destroy(session);
    sqfs_ll_destroy(ll);
    rmdir(dir);
    return 0;
}

/* Mounts the image and runs AppRun from it in this process (or, for
 * --appimage-mount, prints the mount point and waits). Returns only if the
 * mount failed. */
static void run_mounted(const char *appimage, off_t offset, char **app_argv, int argc, char **argv,
                        bool mount_only) {
    char dir[PATH_MAX], apprun[PATH_MAX + 8];
    char *name = basename(strdupa(argv[0]));
    snprintf(dir, sizeof dir, "%s/.mount_%.6sXXXXXX", tmp_base(), name);
    if (!mkdtemp(dir)) die("cannot create a folder in %s: %s", tmp_base(), strerror(errno));
    int ready[2], alive[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(alive, O_CLOEXEC) != 0)
        die("cannot make a pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("cannot start the FUSE server: %s", strerror(errno));
    if (pid == 0) {
        close(ready[0]), close(alive[0]);
        /* Its own session (a Ctrl+C for the app is none for the server), and a
         * child of init, not of the app. */
        setsid();
        pid_t server = fork();
        if (server != 0) _exit(server < 0);
        /* Only the app's command line should carry the app's arguments (tools
         * look for processes by them). */
        for (int i = 1; i < argc; i++) memset(argv[i], 0, strlen(argv[i]));
        _exit(serve(appimage, offset, dir, ready[1], alive[1]));
    }
    close(ready[1]), close(alive[1]);
    waitpid(pid, NULL, 0);
    char byte;
    ssize_t n;
    while ((n = read(ready[0], &byte, 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    if (n != 1) {
        close(alive[0]);
        rmdir(dir);
        return;
    }
    /* The app and its children inherit the read end: the image stays mounted as
     * long as one of them runs. */
    fcntl(alive[0], F_SETFD, 0);
    if (mount_only) {
        printf("%s\n", dir);
        fflush(stdout);
        for (;;) pause(); /* until Ctrl+C or kill; the server then unmounts */
    }
    set_app_env(appimage, dir, app_argv[0]);
    snprintf(apprun, sizeof apprun, "%s/AppRun", dir);
    execv(apprun, app_argv);
    die("cannot run %s: %s", apprun, strerror(errno));
}

/* --- Main ----------------------------------------------------------------------------- */

int main(int argc, char *argv[]) {
    char appimage[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", appimage, sizeof appimage - 1);
    if (len < 0) die("cannot find my own file (/proc/self/exe): %s", strerror(errno));
    appimage[len] = '\0';
    prog = strrchr(appimage, '/') ? strrchr(appimage, '/') + 1 : appimage;

    int fd = open(appimage, O_RDONLY | O_CLOEXEC);
    off_t offset = fd < 0 ? -1 : elf_size(fd);
    char magic[4] = {0};
    bool has_image = offset > 0 && pread(fd, magic, 4, offset) == 4 && memcmp(magic, "hsqs", 4) == 0;
    if (fd >= 0) close(fd);
    if (offset < 0) die("cannot read my own ELF headers in %s", appimage);

    const char *option = argc > 1 && strncmp(argv[1], "--appimage-", 11) == 0 ? argv[1] + 11 : NULL;
    if (option && strcmp(option, "help") == 0) {
        usage();
        return 0;
    }
    if (option && strcmp(option, "version") == 0) {
        printf("Confero AppImage runtime %s (AppImage type 2; squashfuse, libfuse %d.%d)\n",
               RUNTIME_VERSION, FUSE_MAJOR_VERSION, FUSE_MINOR_VERSION);
        return 0;
    }
    if (option && strcmp(option, "offset") == 0) {
        printf("%lld\n", (long long) offset);
        return 0;
    }
    if (!has_image) die("no SquashFS image follows the runtime (at byte %lld)", (long long) offset);

    char *app_argv[argc + 1]; /* argv[0] and the arguments meant for the app */
    int app_argc = 0;
    app_argv[app_argc++] = argv[0];
    for (int i = option ? 2 : 1; i < argc; i++) app_argv[app_argc++] = argv[i];
    app_argv[app_argc] = NULL;

    if (option && strcmp(option, "extract") == 0) {
        if (argc > 3) {
            say("--appimage-extract takes one PATTERN at most");
            return 1;
        }
        return extract(appimage, offset, "squashfs-root", argc == 3 ? argv[2] : NULL,
                       env_set("VERBOSE"))
                   ? 0
                   : 1;
    }
    bool mount_only = option && strcmp(option, "mount") == 0;
    if (option && !mount_only && strcmp(option, "extract-and-run") != 0) {
        say("unknown option --appimage-%s (--appimage-help lists them)", option);
        return 1;
    }
    if (!option && env_set("APPIMAGE_EXTRACT_AND_RUN")) option = "extract-and-run";
    if (option && strcmp(option, "extract-and-run") == 0)
        return run_extracted(appimage, offset, app_argv);

    run_mounted(appimage, offset, app_argv, argc, argv, mount_only);
    if (mount_only) die("cannot mount the AppImage with FUSE");
    say("cannot mount the AppImage with FUSE (it needs /dev/fuse and fusermount3, from the "
        "fuse3 package); running it from a temporary copy instead. APPIMAGE_EXTRACT_AND_RUN=1 "
        "skips the mount.");
    return run_extracted(appimage, offset, app_argv);
}
