/*
 * execgate-agent: the guest agent of execgate's Linux utility VMs (UVMs).
 *
 * It speaks version 1 of the protocol in docs/uvm-agent-protocol.md (normative) and runs many exec
 * sessions at once in a single poll() loop, without threads:
 *   - framing: 12-byte header (type u8, 3 reserved bytes, session u32 BE, length u32 BE), payload
 *     <= 65536 bytes, strings as u16 length + bytes;
 *   - HELLO / PING / PONG / POWEROFF on session 0; EXEC, STDIN, STDIN_CLOSE, RESIZE, SIGNAL, CREDIT and CLOSE on
 *     sessions >= 1; STARTED, STDOUT, STDERR, EXIT, STDIN_CREDIT and ERROR back to the host;
 *   - flow control: a 256 KiB output window and a 256 KiB stdin window per session.
 *
 * Two modes:
 *   execgate-agent --stdio   on the host: the protocol on fd 0 (in) and fd 1 (out), for tests. The agent
 *                            becomes a child subreaper and exits 0 when fd 0 reaches end of file, after
 *                            SIGKILLing the process groups of its sessions.
 *   execgate-agent           as PID 1 (the /init of the UVM initramfs built by uvm/build-image): mounts
 *                            /proc, /sys, /dev, /dev/pts, /tmp and /run, loads /modules/order, finds the
 *                            virtio-serial port named "execgate.agent" and serves it forever. It reaps
 *                            orphans, and powers the VM off if something fatal happens.
 *
 * Build: gcc -static -O2 -Wall -Wextra -o execgate-agent uvm/agent/agent.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define PROTO_VERSION 1
#define HDR 12
#define MAX_PAYLOAD 65536u
#define WINDOW 262144u
#define OUT_HIGH (1024u * 1024u)     /* stop reading outputs while this much waits for the port */
#define IBUF_SIZE (256u * 1024u)
#define BACKOFF_MS 20
#define PORT_NAME "execgate.agent"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum {
	T_HELLO = 0x01, T_PING = 0x02, T_PONG = 0x03, T_POWEROFF = 0x04,
	T_EXEC = 0x10, T_STDIN = 0x11, T_STDIN_CLOSE = 0x12, T_RESIZE = 0x13, T_SIGNAL = 0x14,
	T_CREDIT = 0x15, T_CLOSE = 0x16,
	T_STARTED = 0x20, T_STDOUT = 0x21, T_STDERR = 0x22, T_EXIT = 0x23, T_STDIN_CREDIT = 0x24,
	T_ERROR = 0x2F
};

/* Where the child failed before exec (reported through the CLOEXEC pipe). */
enum { ST_SETSID, ST_TTY, ST_DUP, ST_GROUPS, ST_SETGID, ST_SETUID, ST_CHDIR, ST_EXEC };
static const char *const stage_name[] = {
	"setsid", "open tty", "dup2", "setgroups", "setgid", "setuid", "chdir", "exec"
};

struct session {
	uint32_t id;
	pid_t pid;
	int tty;
	int starting;           /* errpipe open: neither STARTED nor ERROR sent yet */
	int errpipe;
	int master;             /* pty master (owns the fd), -1 without a tty */
	int in_fd;              /* stdin pipe write end, or the master */
	int out_fd;             /* stdout pipe read end, or the master */
	int err_fd;             /* stderr pipe read end; -1 with a tty */
	int reaped, status, exit_sent;
	int out_eof, err_eof;
	uint64_t window;        /* output window */
	unsigned char *q;       /* stdin queue: bytes [qoff, qoff + qlen) */
	size_t qoff, qlen, qcap;
	size_t qhost;           /* host bytes at the front of the queue (the rest is ^D we added) */
	int close_req;          /* STDIN_CLOSE received */
	int in_broken;          /* stdin cannot be written any more */
	int any_input;
	unsigned char last;     /* last host byte queued (tty: is the line empty?) */
	int dead;               /* forgotten; freed at the end of the loop iteration */
	char *argv0;
};

static int init_mode;
static int port_in = -1, port_out = -1;
static int sig_fd = -1;
static int hello_done, broken;
static int backoff;
static struct timespec backoff_until;
static unsigned char *ibuf;
static size_t ilen;
static unsigned char *obuf;
static size_t ooff, olen, ocap;
static struct session **sess;
static size_t nsess, capsess;
static struct rlimit orig_nofile;
static int have_orig_nofile;

/* ---------- logging and fatal errors ---------- */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof buf, "execgate-agent: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = strlen(buf);
	buf[len++] = '\n';
	ssize_t w = write(2, buf, len);
	(void)w;
}

static void kill_all_sessions(void);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	logmsg("fatal: %s", buf);
	kill_all_sessions();
	if (!init_mode)
		exit(1);
	logmsg("powering off");
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void *xrealloc(void *p, size_t n)
{
	void *r = realloc(p, n);
	if (!r)
		die("out of memory (%zu bytes)", n);
	return r;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl >= 0)
		fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* ---------- big-endian helpers ---------- */

static void put16(unsigned char *p, uint32_t v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
static uint32_t get16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct rd { const unsigned char *p; size_t len, off; };

static int rd_u8(struct rd *r, uint32_t *v)
{
	if (r->len - r->off < 1) return 0;
	*v = r->p[r->off++];
	return 1;
}
static int rd_u16(struct rd *r, uint32_t *v)
{
	if (r->len - r->off < 2) return 0;
	*v = get16(r->p + r->off); r->off += 2;
	return 1;
}
static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->len - r->off < 4) return 0;
	*v = get32(r->p + r->off); r->off += 4;
	return 1;
}
static int rd_str(struct rd *r, const unsigned char **s, uint32_t *n)
{
	if (!rd_u16(r, n) || r->len - r->off < *n) return 0;
	*s = r->p + r->off; r->off += *n;
	return memchr(*s, 0, *n) == NULL;     /* no NUL inside */
}

/* ---------- output to the port ---------- */

static unsigned char *out_reserve(size_t n)
{
	if (olen + n > ocap) {
		if (ooff > 0) {
			memmove(obuf, obuf + ooff, olen - ooff);
			olen -= ooff;
			ooff = 0;
		}
		if (olen + n > ocap) {
			size_t nc = ocap ? ocap : 128 * 1024;
			while (nc < olen + n)
				nc *= 2;
			obuf = xrealloc(obuf, nc);
			ocap = nc;
		}
	}
	return obuf + olen;
}

static void put_header(unsigned char *h, int type, uint32_t sid, uint32_t len)
{
	h[0] = (unsigned char)type; h[1] = h[2] = h[3] = 0;
	put32(h + 4, sid);
	put32(h + 8, len);
}

static void emit(int type, uint32_t sid, const void *payload, size_t len)
{
	unsigned char *h = out_reserve(HDR + len);
	put_header(h, type, sid, (uint32_t)len);
	if (len)
		memcpy(h + HDR, payload, len);
	olen += HDR + len;
}

static void emit_u32(int type, uint32_t sid, uint32_t v)
{
	unsigned char b[4];
	put32(b, v);
	emit(type, sid, b, 4);
}

static void emit_error(uint32_t sid, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit_error(uint32_t sid, int code, const char *fmt, ...)
{
	unsigned char b[4 + 1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf((char *)b + 4, sizeof b - 4, fmt, ap);
	va_end(ap);
	if (n < 0) n = 0;
	if ((size_t)n > sizeof b - 5) n = (int)(sizeof b - 5);
	put16(b, (uint32_t)code);
	put16(b + 2, (uint32_t)n);
	emit(T_ERROR, sid, b, 4 + (size_t)n);
}

static void connection_lost(const char *why);

/* Writes what it can without blocking. */
static void flush_out(void)
{
	while (ooff < olen) {
		ssize_t n = write(port_out, obuf + ooff, olen - ooff);
		if (n > 0) {
			ooff += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else {
			if (!init_mode) {
				logmsg("write to host: %s", n < 0 ? strerror(errno) : "no progress");
				kill_all_sessions();
				exit(1);
			}
			connection_lost(n < 0 ? strerror(errno) : "write returned 0");
			return;
		}
	}
	if (ooff == olen)
		ooff = olen = 0;
}

/* ---------- sessions ---------- */

static struct session *find_session(uint32_t id)
{
	for (size_t i = 0; i < nsess; i++)
		if (!sess[i]->dead && sess[i]->id == id)
			return sess[i];
	return NULL;
}

static struct session *find_pid(pid_t pid)
{
	for (size_t i = 0; i < nsess; i++)
		if (!sess[i]->dead && !sess[i]->reaped && sess[i]->pid == pid)
			return sess[i];
	return NULL;
}

static void drop_fd(struct session *s, int *fdp)
{
	if (*fdp < 0) return;
	if (*fdp != s->master) close(*fdp);
	*fdp = -1;
}

static void free_session(struct session *s)
{
	drop_fd(s, &s->errpipe);
	drop_fd(s, &s->in_fd);
	drop_fd(s, &s->out_fd);
	drop_fd(s, &s->err_fd);
	if (s->master >= 0) close(s->master);
	free(s->q);
	free(s->argv0);
	free(s);
}

static void free_dead(void)
{
	size_t j = 0;
	for (size_t i = 0; i < nsess; i++) {
		if (sess[i]->dead)
			free_session(sess[i]);
		else
			sess[j++] = sess[i];
	}
	nsess = j;
}

static void maybe_done(struct session *s)
{
	if (s->exit_sent && s->out_eof && s->err_eof)
		s->dead = 1;
}

static void kill_all_sessions(void)
{
	for (size_t i = 0; i < nsess; i++) {
		struct session *s = sess[i];
		if (s->dead) continue;
		if (s->pid > 0) {
			kill(-s->pid, SIGKILL);
			if (!s->reaped) kill(s->pid, SIGKILL);
		}
		s->dead = 1;
	}
}

/* VM mode: the host went away (or broke the framing). Nothing survives a reconnect. */
static void connection_lost(const char *why)
{
	size_t live = 0;
	for (size_t i = 0; i < nsess; i++)
		live += !sess[i]->dead;
	if (hello_done || live || ilen || olen > ooff)
		logmsg("host connection lost (%s); dropping %zu session(s)", why, live);
	kill_all_sessions();
	hello_done = 0;
	ilen = 0;
	ooff = olen = 0;
}

/* Reads one chunk of a session's stdout or stderr into a frame. Returns 1 if it got data. */
static int pump_output(struct session *s, int err)
{
	int *fdp = err ? &s->err_fd : &s->out_fd;
	int type = err ? T_STDERR : T_STDOUT;
	if (*fdp < 0 || s->window == 0)
		return 0;
	size_t want = s->window < MAX_PAYLOAD ? (size_t)s->window : MAX_PAYLOAD;
	unsigned char *h = out_reserve(HDR + want);
	ssize_t n;
	do
		n = read(*fdp, h + HDR, want);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		put_header(h, type, s->id, (uint32_t)n);
		olen += HDR + (size_t)n;
		s->window -= (uint64_t)n;
		return 1;
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0 && errno != EIO)   /* EIO: pty master after the slave side closed */
		logmsg("session %u: read %s: %s", s->id, err ? "stderr" : "stdout", strerror(errno));
	emit(type, s->id, NULL, 0);
	if (err) s->err_eof = 1; else s->out_eof = 1;
	drop_fd(s, fdp);
	maybe_done(s);
	return 0;
}

static void send_exit(struct session *s)
{
	/* Forward what the process wrote before it died, so output usually precedes EXIT. */
	while (pump_output(s, 0)) ;
	while (pump_output(s, 1)) ;
	unsigned char b[5];
	if (WIFSIGNALED(s->status)) {
		b[0] = 1;
		put32(b + 1, (uint32_t)WTERMSIG(s->status));
	} else {
		b[0] = 0;
		put32(b + 1, (uint32_t)WEXITSTATUS(s->status));
	}
	emit(T_EXIT, s->id, b, 5);
	s->exit_sent = 1;
	maybe_done(s);
}

static void reap_all(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct session *s = find_pid(pid);
		if (!s)
			continue;       /* orphan, failed exec or forgotten session */
		s->reaped = 1;
		s->status = st;
		if (!s->starting)
			send_exit(s);
	}
}

static void discard_stdin(struct session *s, uint32_t *credit)
{
	*credit += (uint32_t)s->qhost;
	s->qhost = 0;
	s->qlen = s->qoff = 0;
	s->in_broken = 1;
	if (!s->tty)
		drop_fd(s, &s->in_fd);
}

static void stdin_maybe_close(struct session *s)
{
	if (s->qlen == 0) {
		free(s->q);
		s->q = NULL;
		s->qoff = s->qcap = 0;
		if (s->close_req && !s->tty)
			drop_fd(s, &s->in_fd);
	}
}

static void pump_input(struct session *s)
{
	uint32_t credit = 0;
	while (s->qlen > 0 && s->in_fd >= 0) {
		ssize_t n = write(s->in_fd, s->q + s->qoff, s->qlen);
		if (n > 0) {
			s->qoff += (size_t)n;
			s->qlen -= (size_t)n;
			size_t c = (size_t)n < s->qhost ? (size_t)n : s->qhost;
			s->qhost -= c;
			credit += (uint32_t)c;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else {
			/* EPIPE (the reader is gone) or EIO: what is queued can never be delivered. */
			discard_stdin(s, &credit);
			break;
		}
	}
	stdin_maybe_close(s);
	if (credit)
		emit_u32(T_STDIN_CREDIT, s->id, credit);
}

static void queue_stdin(struct session *s, const unsigned char *p, size_t n, int host)
{
	if (s->qoff + s->qlen + n > s->qcap) {
		if (s->qoff) {
			memmove(s->q, s->q + s->qoff, s->qlen);
			s->qoff = 0;
		}
		if (s->qlen + n > s->qcap) {
			size_t nc = s->qcap ? s->qcap : 16384;
			while (nc < s->qlen + n)
				nc *= 2;
			s->q = xrealloc(s->q, nc);
			s->qcap = nc;
		}
	}
	memcpy(s->q + s->qoff + s->qlen, p, n);
	s->qlen += n;
	if (host)
		s->qhost += n;
}

/* The errpipe of a starting session is readable: the child exec'd (EOF) or reported an error. The code says
 * what failed (the protocol's ERROR codes), so the host need not read it from the message. */
static int exec_error_code(int stage, int err)
{
	if (stage == ST_CHDIR)
		return 2;
	if (stage == ST_GROUPS || stage == ST_SETGID || stage == ST_SETUID)
		return 3;
	if (stage != ST_EXEC)
		return 1;
	if (err == ENOENT || err == ENOTDIR)
		return 127;
	if (err == EACCES || err == EPERM || err == ENOEXEC || err == EISDIR || err == ETXTBSY)
		return 126;
	return 1;
}

static void handle_errpipe(struct session *s)
{
	int rep[2];
	ssize_t n;
	do
		n = read(s->errpipe, rep, sizeof rep);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	drop_fd(s, &s->errpipe);
	s->starting = 0;
	if (n == (ssize_t)sizeof rep) {
		int stage = rep[0] >= 0 && rep[0] <= ST_EXEC ? rep[0] : ST_EXEC;
		int code = exec_error_code(stage, rep[1]);
		if (stage == ST_EXEC)
			emit_error(s->id, code, "%s: %s", s->argv0,
				   code == 127 ? "command not found" : strerror(rep[1]));
		else
			emit_error(s->id, code, "%s: %s", stage_name[stage], strerror(rep[1]));
		if (!s->reaped)
			kill(s->pid, SIGKILL);    /* it is exiting anyway */
		s->dead = 1;
		return;
	}
	emit_u32(T_STARTED, s->id, (uint32_t)s->pid);
	if (s->tty) {
		emit(T_STDERR, s->id, NULL, 0);    /* stderr is the tty */
		s->err_eof = 1;
	}
	if (s->qlen)
		pump_input(s);
	if (s->reaped)
		send_exit(s);
}

/* ---------- the child side of EXEC ---------- */

struct spawn {
	int tty;
	char slave[64];
	int in_r, out_w, err_w, errw;
	int32_t uid, gid;
	const char *cwd;
	char **argv;            /* argv[-1] is a spare slot for the ENOEXEC fallback */
	char **envp;
};

static void child_fail(const struct spawn *sp, int stage, int err) __attribute__((noreturn));
static void child_fail(const struct spawn *sp, int stage, int err)
{
	int rep[2] = { stage, err };
	ssize_t w = write(sp->errw, rep, sizeof rep);
	(void)w;
	_exit(127);
}

static int try_exec(const char *path, char **argv, char **envp)
{
	execve(path, argv, envp);
	if (errno == ENOEXEC) {
		/* Like execvpe: a file without a recognised format is a script for /bin/sh. */
		argv[-1] = (char *)"sh";
		argv[0] = (char *)path;
		execve("/bin/sh", argv - 1, envp);
		errno = ENOEXEC;
	}
	return errno;
}

static void run_child(const struct spawn *sp) __attribute__((noreturn));
static void run_child(const struct spawn *sp)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (have_orig_nofile)
		setrlimit(RLIMIT_NOFILE, &orig_nofile);

	if (setsid() < 0)
		child_fail(sp, ST_SETSID, errno);
	if (sp->tty) {
		int fd = open(sp->slave, O_RDWR);
		if (fd < 0)
			child_fail(sp, ST_TTY, errno);
		if (ioctl(fd, TIOCSCTTY, 0) < 0)
			child_fail(sp, ST_TTY, errno);
		if (sp->uid >= 0 && geteuid() == 0 && fchown(fd, (uid_t)sp->uid, (gid_t)-1) < 0) {
			/* not fatal: the process still has the fd */
		}
		if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			child_fail(sp, ST_DUP, errno);
		if (fd > 2)
			close(fd);
	} else {
		if (dup2(sp->in_r, 0) < 0 || dup2(sp->out_w, 1) < 0 || dup2(sp->err_w, 2) < 0)
			child_fail(sp, ST_DUP, errno);
	}

	if (sp->uid >= 0 && geteuid() == 0) {
		gid_t g = sp->gid >= 0 ? (gid_t)sp->gid : getgid();
		if (setgroups(1, &g) < 0)
			child_fail(sp, ST_GROUPS, errno);
	}
	if (sp->gid >= 0 && setgid((gid_t)sp->gid) < 0)
		child_fail(sp, ST_SETGID, errno);
	if (sp->uid >= 0 && setuid((uid_t)sp->uid) < 0)
		child_fail(sp, ST_SETUID, errno);
	if (chdir(sp->cwd) < 0)
		child_fail(sp, ST_CHDIR, errno);

	char **argv = sp->argv, **envp = sp->envp;
	const char *file = argv[0];
	if (file[0] == '\0')
		child_fail(sp, ST_EXEC, ENOENT);
	if (strchr(file, '/'))
		child_fail(sp, ST_EXEC, try_exec(file, argv, envp));

	const char *path = DEFAULT_PATH;
	for (char **e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0) {
			path = *e + 5;
			break;
		}
	size_t flen = strlen(file);
	int seen_eacces = 0;
	char buf[PATH_MAX];
	for (const char *p = path;; ) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		const char *dir = dlen ? p : ".";
		if (!dlen) dlen = 1;
		if (dlen + 1 + flen + 1 <= sizeof buf) {
			memcpy(buf, dir, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			int err = try_exec(buf, argv, envp);
			switch (err) {
			case EACCES:
				seen_eacces = 1;
				break;
			case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: case ELOOP:
			case ENAMETOOLONG:
				break;
			default:
				child_fail(sp, ST_EXEC, err);
			}
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	child_fail(sp, ST_EXEC, seen_eacces ? EACCES : ENOENT);
}

/* ---------- EXEC ---------- */

static void add_session(struct session *s)
{
	if (nsess == capsess) {
		capsess = capsess ? capsess * 2 : 64;
		sess = xrealloc(sess, capsess * sizeof *sess);
	}
	sess[nsess++] = s;
}

static void do_exec(uint32_t sid, const unsigned char *p, uint32_t len)
{
	struct rd r = { p, len, 0 };
	uint32_t flags, rows, cols, uid, gid, cwdl, argc, envc, n;
	const unsigned char *cwdp, *sp_;

	if (find_session(sid)) {
		logmsg("EXEC for session %u, which is in use: ignored", sid);
		return;
	}
	if (!rd_u8(&r, &flags) || !rd_u16(&r, &rows) || !rd_u16(&r, &cols) || !rd_u32(&r, &uid) ||
	    !rd_u32(&r, &gid) || !rd_str(&r, &cwdp, &cwdl) || !rd_u16(&r, &argc))
		goto malformed;
	/* First pass: validate and size the strings. */
	size_t argv_at = r.off, total = cwdl + 2;
	for (uint32_t i = 0; i < argc; i++) {
		if (!rd_str(&r, &sp_, &n)) goto malformed;
		total += n + 1;
	}
	if (!rd_u16(&r, &envc)) goto malformed;
	for (uint32_t i = 0; i < envc; i++) {
		if (!rd_str(&r, &sp_, &n)) goto malformed;
		total += n + 1;
	}
	if (argc == 0) {
		emit_error(sid, 1, "empty argv");
		return;
	}

	/* Second pass: copy into one block; argv gets a spare slot in front. */
	char *blk = malloc(total);
	char **vec = malloc((argc + envc + 3) * sizeof *vec);
	if (!blk || !vec)
		die("out of memory");
	char *w = blk;
	char *cwd = w;
	if (cwdl) { memcpy(w, cwdp, cwdl); w += cwdl; } else *w++ = '/';
	*w++ = 0;
	char **argv = vec + 1, **envp = vec + argc + 2;
	r.off = argv_at;
	for (uint32_t i = 0; i < argc; i++) {
		rd_str(&r, &sp_, &n);
		memcpy(w, sp_, n); w[n] = 0; argv[i] = w; w += n + 1;
	}
	argv[argc] = NULL;
	vec[0] = NULL;
	rd_u16(&r, &envc);
	for (uint32_t i = 0; i < envc; i++) {
		rd_str(&r, &sp_, &n);
		memcpy(w, sp_, n); w[n] = 0; envp[i] = w; w += n + 1;
	}
	envp[envc] = NULL;

	struct spawn sp;
	memset(&sp, 0, sizeof sp);
	sp.tty = flags & 1;
	sp.uid = (int32_t)uid;
	sp.gid = (int32_t)gid;
	sp.cwd = cwd;
	sp.argv = argv;
	sp.envp = envp;
	sp.in_r = sp.out_w = sp.err_w = sp.errw = -1;
	int in_w = -1, out_r = -1, err_r = -1, ep_r = -1, master = -1, pfd[2];
	const char *what = "pipe";

	if (sp.tty) {
		what = "pty";
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
			goto fail;
		if ((errno = ptsname_r(master, sp.slave, sizeof sp.slave)) != 0)
			goto fail;
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			goto fail;
		set_cloexec(master);
		set_nonblock(master);
	} else {
		if (pipe2(pfd, O_CLOEXEC) < 0) goto fail;
		sp.in_r = pfd[0]; in_w = pfd[1];
		if (pipe2(pfd, O_CLOEXEC) < 0) goto fail;
		out_r = pfd[0]; sp.out_w = pfd[1];
		if (pipe2(pfd, O_CLOEXEC) < 0) goto fail;
		err_r = pfd[0]; sp.err_w = pfd[1];
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) goto fail;
	ep_r = pfd[0]; sp.errw = pfd[1];

	what = "fork";
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		run_child(&sp);

	if (sp.in_r >= 0) close(sp.in_r);
	if (sp.out_w >= 0) close(sp.out_w);
	if (sp.err_w >= 0) close(sp.err_w);
	close(sp.errw);

	struct session *s = calloc(1, sizeof *s);
	if (!s)
		die("out of memory");
	s->id = sid;
	s->pid = pid;
	s->tty = sp.tty;
	s->starting = 1;
	s->errpipe = ep_r;
	s->master = master;
	if (sp.tty) {
		s->in_fd = s->out_fd = master;
		s->err_fd = -1;
	} else {
		s->in_fd = in_w; s->out_fd = out_r; s->err_fd = err_r;
		set_nonblock(in_w); set_nonblock(out_r); set_nonblock(err_r);
	}
	s->window = WINDOW;
	s->argv0 = strdup(argv[0]);
	if (!s->argv0)
		die("out of memory");
	add_session(s);
	free(blk);
	free(vec);
	return;

fail:;
	int e = errno;
	int fds[] = { master, sp.in_r, in_w, out_r, sp.out_w, err_r, sp.err_w, ep_r, sp.errw };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0) close(fds[i]);
	free(blk);
	free(vec);
	emit_error(sid, 1, "%s: %s", what, strerror(e));
	return;

malformed:
	emit_error(sid, 1, "malformed EXEC");
}

/* ---------- frames from the host ---------- */

static void do_hello(const unsigned char *p, uint32_t len)
{
	uint32_t v = len >= 2 ? get16(p) : 0;
	if (v != PROTO_VERSION) {
		emit_error(0, 1, "unsupported protocol version %u (this agent speaks %d)", v, PROTO_VERSION);
		return;
	}
	struct utsname u;
	const char *rel = uname(&u) == 0 ? u.release : "unknown";
	size_t rl = strlen(rel);
	unsigned char b[4 + sizeof u.release];
	put16(b, PROTO_VERSION);
	put16(b + 2, (uint32_t)rl);
	memcpy(b + 4, rel, rl);
	emit(T_HELLO, 0, b, 4 + rl);
	hello_done = 1;
}

/* POWEROFF: end every session, then power the VM off (QEMU exits); on the host, just exit. */
static void power_off(void)
{
	logmsg("powering off at the host's request");
	kill_all_sessions();
	if (!init_mode)
		exit(0);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void handle_frame(int type, uint32_t sid, const unsigned char *p, uint32_t len)
{
	if (sid == 0) {
		if (type == T_HELLO)
			do_hello(p, len);
		else if (type == T_PING && hello_done)
			emit(T_PONG, 0, p, len);
		else if (type == T_POWEROFF && hello_done)
			power_off();
		return;                  /* PONG, unknown types, anything before HELLO: ignored */
	}
	if (!hello_done)
		return;
	if (type == T_EXEC) {
		do_exec(sid, p, len);
		return;
	}
	struct session *s = find_session(sid);
	if (!s)
		return;                  /* a session that is over: late CREDIT, CLOSE, ... */
	switch (type) {
	case T_STDIN: {
		if (len == 0)
			break;
		if (s->close_req || s->in_broken || s->in_fd < 0) {
			emit_u32(T_STDIN_CREDIT, sid, len);      /* nowhere to go: return the window */
			break;
		}
		size_t room = s->qhost < WINDOW ? WINDOW - s->qhost : 0;
		size_t take = len < room ? len : room;
		if (take < len) {
			logmsg("session %u: stdin window exceeded, %zu bytes dropped", sid, len - take);
			emit_u32(T_STDIN_CREDIT, sid, (uint32_t)(len - take));
		}
		if (take) {
			queue_stdin(s, p, take, 1);
			s->any_input = 1;
			s->last = p[take - 1];
			if (!s->starting)
				pump_input(s);
		}
		break;
	}
	case T_STDIN_CLOSE:
		if (s->close_req)
			break;
		s->close_req = 1;
		if (s->tty) {
			if (!s->in_broken) {
				int two = s->any_input && s->last != '\n' && s->last != '\r';
				queue_stdin(s, (const unsigned char *)"\4\4", two ? 2 : 1, 0);
				if (!s->starting)
					pump_input(s);
			}
		} else {
			stdin_maybe_close(s);
		}
		break;
	case T_RESIZE:
		if (len >= 4 && s->tty && s->master >= 0) {
			struct winsize ws = { .ws_row = (unsigned short)get16(p), .ws_col = (unsigned short)get16(p + 2) };
			if (ioctl(s->master, TIOCSWINSZ, &ws) < 0)
				logmsg("session %u: TIOCSWINSZ: %s", sid, strerror(errno));
		}
		break;
	case T_SIGNAL:
		if (len >= 2 && s->pid > 0) {
			int sig = p[0];
			if (p[1] & 1) {
				if (kill(-s->pid, sig) < 0 && errno == ESRCH && !s->reaped)
					kill(s->pid, sig);   /* still before its setsid() */
			} else if (!s->reaped) {
				kill(s->pid, sig);
			}
		}
		break;
	case T_CREDIT:
		if (len >= 4)
			s->window += get32(p);
		break;
	case T_CLOSE:
		s->dead = 1;             /* fds closed in free_dead(); the process is left alone */
		break;
	default:
		break;                   /* unknown: ignored */
	}
}

static void protocol_broken(const char *why)
{
	logmsg("protocol error: %s", why);
	if (!init_mode) {
		kill_all_sessions();
		exit(1);
	}
	connection_lost(why);
	broken = 1;                      /* discard input until the host disconnects */
}

static void parse_input(void)
{
	size_t off = 0;
	while (ilen - off >= HDR) {
		const unsigned char *h = ibuf + off;
		uint32_t len = get32(h + 8);
		if (len > MAX_PAYLOAD) {
			protocol_broken("frame longer than 65536 bytes");
			return;
		}
		if (ilen - off < HDR + len)
			break;
		handle_frame(h[0], get32(h + 4), h + HDR, len);
		off += HDR + len;
	}
	if (off) {
		memmove(ibuf, ibuf + off, ilen - off);
		ilen -= off;
	}
}

static void start_backoff(void)
{
	clock_gettime(CLOCK_MONOTONIC, &backoff_until);
	backoff_until.tv_nsec += BACKOFF_MS * 1000000L;
	if (backoff_until.tv_nsec >= 1000000000L) {
		backoff_until.tv_sec++;
		backoff_until.tv_nsec -= 1000000000L;
	}
	backoff = 1;
}

static void read_port(void)
{
	for (int i = 0; i < 32; i++) {
		ssize_t n = read(port_in, ibuf + ilen, IBUF_SIZE - ilen);
		if (n > 0) {
			if (broken) {
				ilen = 0;
				continue;
			}
			ilen += (size_t)n;
			parse_input();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (!init_mode) {
			if (n < 0)
				logmsg("read from host: %s", strerror(errno));
			kill_all_sessions();
			exit(n == 0 ? 0 : 1);
		}
		/* VM: 0 means no host is connected (or it has just gone). */
		if (n < 0)
			logmsg("read port: %s", strerror(errno));
		connection_lost(n == 0 ? "host disconnected" : strerror(errno));
		broken = 0;
		start_backoff();
		return;
	}
}

/* ---------- init (PID 1) ---------- */

static void do_mount(const char *src, const char *dir, const char *type, unsigned long fl, const char *data)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, fl, data) < 0 && errno != EBUSY)
		logmsg("mount %s on %s: %s", type, dir, strerror(errno));
}

static char *read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) return NULL;
	buf[n] = 0;
	return buf;
}

/* modprobe-style: "name.param=value" words of the kernel command line become module parameters. */
static void module_params(const char *file, char *out, size_t size)
{
	char name[128], cmd[4096];
	size_t k = 0;
	out[0] = 0;
	for (; file[k] && file[k] != '.' && k < sizeof name - 2; k++)
		name[k] = file[k] == '-' ? '_' : file[k];
	name[k++] = '.';
	name[k] = 0;
	if (!read_small("/proc/cmdline", cmd, sizeof cmd))
		return;
	size_t used = 0;
	for (char *save = NULL, *t = strtok_r(cmd, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(t, name, k) != 0 || !strchr(t + k, '='))
			continue;
		int w = snprintf(out + used, size - used, "%s%s", used ? " " : "", t + k);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
}

static void load_modules(void)
{
	char list[8192], path[512], params[1024];
	if (!read_small("/modules/order", list, sizeof list))
		return;
	for (char *save = NULL, *m = strtok_r(list, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
		while (*m == ' ' || *m == '\t') m++;
		size_t l = strlen(m);
		while (l && (m[l - 1] == ' ' || m[l - 1] == '\t' || m[l - 1] == '\r')) m[--l] = 0;
		if (!l || *m == '#')
			continue;
		snprintf(path, sizeof path, "/modules/%s", m);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			logmsg("module %s: %s", m, strerror(errno));
			continue;
		}
		module_params(m, params, sizeof params);
		if (syscall(SYS_finit_module, fd, params, 0) < 0 && errno != EEXIST)
			logmsg("module %s: %s", m, strerror(errno));
		close(fd);
	}
}

static int open_port(void)
{
	char p[512], buf[128];
	for (int tries = 0; tries < 1000; tries++) {       /* about 10 s */
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", de->d_name);
			if (!read_small(p, buf, sizeof buf))
				continue;
			buf[strcspn(buf, "\n")] = 0;
			if (strcmp(buf, PORT_NAME) != 0)
				continue;
			snprintf(p, sizeof p, "/dev/%s", de->d_name);
			int fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if (fd < 0 && errno == ENOENT) {
				/* devtmpfs has not made the node yet: make it from sysfs */
				char dp[512];
				unsigned maj, min;
				snprintf(dp, sizeof dp, "/sys/class/virtio-ports/%s/dev", de->d_name);
				if (read_small(dp, buf, sizeof buf) && sscanf(buf, "%u:%u", &maj, &min) == 2 &&
				    mknod(p, S_IFCHR | 0600, makedev(maj, min)) == 0)
					fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			}
			if (fd >= 0) {
				closedir(d);
				return fd;
			}
			logmsg("open %s: %s", p, strerror(errno));
		}
		if (d)
			closedir(d);
		usleep(10000);
	}
	return -1;
}

static void init_setup(void)
{
	umask(022);
	do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620,gid=5");
	do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	do_mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (access("/dev/ptmx", F_OK) < 0 && symlink("pts/ptmx", "/dev/ptmx") < 0)
		logmsg("symlink /dev/ptmx: %s", strerror(errno));
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
	};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST) { /* cosmetic */ }

	/* fds 0-2 on the console (the kernel opens them only if /dev/console existed in the rootfs) */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int c = open("/dev/console", O_RDWR | O_NOCTTY);
			if (c < 0) c = open("/dev/null", O_RDWR);
			if (c >= 0 && c != fd) { dup2(c, fd); close(c); }
		}

	if (sethostname("uvm", 3) < 0)
		logmsg("sethostname: %s", strerror(errno));
	setenv("PATH", DEFAULT_PATH, 1);
	setenv("HOME", "/root", 1);
	load_modules();
	int fd = open_port();
	if (fd < 0)
		die("no virtio port named %s", PORT_NAME);
	port_in = port_out = fd;
}

/* ---------- main loop ---------- */

enum { K_SIG, K_PIN, K_POUT, K_EP, K_OUT, K_ERR, K_IN };
struct pref { struct session *s; int kind; };

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--stdio") == 0) {
		init_mode = 0;
	} else if (getpid() == 1) {
		init_mode = 1;
	} else {
		fprintf(stderr, "usage: %s --stdio   (without arguments it must run as PID 1 in the UVM)\n", argv[0]);
		return 2;
	}

	if (init_mode) {
		init_setup();
	} else {
		if (fcntl(2, F_GETFD) < 0) {
			int n = open("/dev/null", O_WRONLY);
			if (n >= 0 && n != 2) { dup2(n, 2); close(n); }
		}
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			logmsg("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		port_in = 0;
		port_out = 1;
		set_nonblock(0);
		set_nonblock(1);
	}

	if (getrlimit(RLIMIT_NOFILE, &orig_nofile) == 0) {
		have_orig_nofile = 1;
		struct rlimit rl = orig_nofile;
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		die("signalfd: %s", strerror(errno));
	ibuf = xrealloc(NULL, IBUF_SIZE);
	if (init_mode)
		logmsg("ready on port %s", PORT_NAME);

	struct pollfd *pfd = NULL;
	struct pref *ref = NULL;
	size_t cap = 0;
	for (;;) {
		size_t need = 3 + 3 * nsess;
		if (need > cap) {
			cap = need * 2;
			pfd = xrealloc(pfd, cap * sizeof *pfd);
			ref = xrealloc(ref, cap * sizeof *ref);
		}
		size_t np = 0;
#define ADD(fd_, ev_, s_, k_) do { pfd[np].fd = (fd_); pfd[np].events = (ev_); pfd[np].revents = 0; \
		ref[np].s = (s_); ref[np].kind = (k_); np++; } while (0)

		int timeout = -1;
		if (backoff) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long ms = (backoff_until.tv_sec - now.tv_sec) * 1000L +
				  (backoff_until.tv_nsec - now.tv_nsec) / 1000000L;
			if (ms <= 0)
				backoff = 0;
			else
				timeout = (int)ms;
		}
		ADD(sig_fd, POLLIN, NULL, K_SIG);
		if (!backoff) {
			ADD(port_in, POLLIN, NULL, K_PIN);
			if (ooff < olen)
				ADD(port_out, POLLOUT, NULL, K_POUT);
		}
		int out_ok = olen - ooff < OUT_HIGH;
		for (size_t i = 0; i < nsess; i++) {
			struct session *s = sess[i];
			if (s->dead)
				continue;
			if (s->starting) {
				ADD(s->errpipe, POLLIN, s, K_EP);
				continue;
			}
			if (out_ok && s->window > 0) {
				if (s->out_fd >= 0) ADD(s->out_fd, POLLIN, s, K_OUT);
				if (s->err_fd >= 0) ADD(s->err_fd, POLLIN, s, K_ERR);
			}
			if (s->qlen > 0 && s->in_fd >= 0)
				ADD(s->in_fd, POLLOUT, s, K_IN);
		}
#undef ADD
		int r = poll(pfd, (nfds_t)np, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (size_t i = 0; i < np && r > 0; i++) {
			if (!pfd[i].revents)
				continue;
			struct session *s = ref[i].s;
			int fd = pfd[i].fd;
			switch (ref[i].kind) {
			case K_SIG: {
				struct signalfd_siginfo si;
				while (read(sig_fd, &si, sizeof si) > 0) ;
				reap_all();
				break;
			}
			case K_PIN:
				read_port();
				break;
			case K_POUT:
				flush_out();
				break;
			case K_EP:
				if (!s->dead && s->starting && s->errpipe == fd)
					handle_errpipe(s);
				break;
			case K_OUT:
				if (!s->dead && s->out_fd == fd)
					pump_output(s, 0);
				break;
			case K_ERR:
				if (!s->dead && s->err_fd == fd)
					pump_output(s, 1);
				break;
			case K_IN:
				if (!s->dead && s->in_fd == fd)
					pump_input(s);
				break;
			}
		}
		if (!backoff)
			flush_out();
		free_dead();
	}
}
