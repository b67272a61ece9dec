/*
 * A fake computecore.dll for Linux tests: the HCS process API (the functions execgate binds, with the same
 * signatures) over real Linux processes. Compute systems come from a table the test fills; processes are real
 * (posix_spawn), their stdio are real pipes or a pseudo-terminal, and the descriptors stand where HCS returns
 * handles. The exit event comes from a thread of the fake's own through the registered callback, as HCS's does.
 * FakeHcs_* functions let a test configure systems, inject the faults hcsshim works around, count open handles,
 * and read what the fake received.
 *
 * Strings are wchar_t as the binding passes them (UTF-16 on Windows, UTF-32 here); documents the fake returns are
 * malloc'd and freed by the caller with free(), where Windows callers use LocalFree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

typedef int32_t HRESULT;
typedef void *HCS_HANDLE;

#define S_OK 0
#define E_INVALIDARG ((HRESULT)0x80070057)
#define ERROR_NOT_FOUND_HR ((HRESULT)0x80070490)
#define HCS_E_INVALID_STATE ((HRESULT)0x80370105)
#define HCS_E_INVALID_JSON ((HRESULT)0x8037010D)
#define HCS_E_SYSTEM_NOT_FOUND ((HRESULT)0x8037010E)
#define HCS_E_PROCESS_ALREADY_STOPPED ((HRESULT)0x8037011F)
#define HCS_E_OPERATION_NOT_STARTED ((HRESULT)0x80370115)
#define HCS_E_CALLBACK_ALREADY_SET ((HRESULT)0x80370119)

#define EVENT_PROCESS_EXITED 0x00010000u

typedef struct {
    uint32_t ProcessId;
    uint32_t Reserved;
    void *StdInput;
    void *StdOutput;
    void *StdError;
} HCS_PROCESS_INFORMATION;

typedef struct {
    uint32_t Type;
    const wchar_t *EventData;
    void *Operation;
} HCS_EVENT;

typedef void (*HCS_EVENT_CALLBACK)(HCS_EVENT *event, void *context);

/* ------------------------------------------------------------------ state */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int open_handles;
static char fault[256]; /* ",name,name," : the faults the next calls take, each once */

#define MAX_SYSTEMS 32
typedef struct {
    char id[128], type[32], owner[64], state[32], os[16];
    int used, removed;
} fake_system;
static fake_system systems[MAX_SYSTEMS];

typedef struct fake_process {
    pid_t pid;
    char system_id[128];
    int linux_os;
    int refs;             /* handles plus the waiter */
    int exited, exit_code, last_wait_result;
    int no_exit_event;    /* fault: the event never comes */
    int vanished;         /* its system went away */
    int held_fd;          /* fault: a stdout write end the fake never closes */
    int master;           /* the pty master, for ConsoleSize, or -1 */
    HCS_PROCESS_INFORMATION info; /* as the create made it; HcsGetProcessInfo returns it */
    HCS_EVENT_CALLBACK callback;
    void *context;
    void *callback_handle; /* the handle the callback was set on: closing another handle leaves it */
    int event_pending;
    int drop_early_event; /* fault: an exit before the callback is registered is not replayed, as HCS promises nothing */
    pthread_mutex_t mutex;  /* held while the callback runs; closing the handle waits for it */
    struct fake_process *next;
} fake_process;
static fake_process *processes;

typedef struct {
    int kind; /* 1 system, 2 process, 3 operation */
    fake_system *system;
    fake_process *process;
    int closed;
} handle;

typedef struct {
    handle h;
    int started;
    HRESULT result;
    char *document; /* UTF-8 */
    int has_info;
    int info_again; /* from HcsGetProcessInfo, not the create */
    HCS_PROCESS_INFORMATION info;
} operation;

static char last_create[4096], last_modify[1024], last_signal[256];

/* Takes the injected fault if it is this one (each fault applies once). */
static int take_fault(const char *name) {
    char key[80];
    snprintf(key, sizeof key, ",%s,", name);
    pthread_mutex_lock(&lock);
    char *at = strstr(fault, key);
    if (at) memmove(at, at + strlen(key) - 1, strlen(at + strlen(key) - 1) + 1); /* keep one comma */
    pthread_mutex_unlock(&lock);
    return at != NULL;
}

static void record(char *into, size_t size, const char *what) {
    pthread_mutex_lock(&lock);
    snprintf(into, size, "%s", what ? what : "");
    pthread_mutex_unlock(&lock);
}

/* ------------------------------------------------------------------ strings */

static char *to_utf8(const wchar_t *w) {
    if (!w) return NULL;
    size_t n = wcslen(w), j = 0;
    char *out = malloc(n * 4 + 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)w[i];
        if (c < 0x80) out[j++] = (char)c;
        else if (c < 0x800) { out[j++] = 0xC0 | (c >> 6); out[j++] = 0x80 | (c & 0x3F); }
        else if (c < 0x10000) { out[j++] = 0xE0 | (c >> 12); out[j++] = 0x80 | ((c >> 6) & 0x3F); out[j++] = 0x80 | (c & 0x3F); }
        else { out[j++] = 0xF0 | (c >> 18); out[j++] = 0x80 | ((c >> 12) & 0x3F); out[j++] = 0x80 | ((c >> 6) & 0x3F); out[j++] = 0x80 | (c & 0x3F); }
    }
    out[j] = 0;
    return out;
}

static wchar_t *to_wide(const char *s) {
    size_t n = strlen(s), j = 0;
    wchar_t *out = malloc((n + 1) * sizeof(wchar_t));
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        int len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; len = 2; }
        else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; len = 3; }
        else { cp = c & 0x07; len = 4; }
        for (int k = 1; k < len && i + k < n; k++) cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
        out[j++] = (wchar_t)cp;
        i += len;
    }
    out[j] = 0;
    return out;
}

static void set_doc(wchar_t **out, const char *doc) {
    if (out) *out = doc ? to_wide(doc) : NULL;
}

/* ------------------------------------------------------------------ a small JSON reader */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    return p;
}

/* Reads a JSON string at p (at its opening quote) into a new buffer; returns the position after it. */
static const char *read_string(const char *p, char **out) {
    if (*p != '"') { *out = NULL; return p; }
    p++;
    char *buf = malloc(strlen(p) + 1);
    size_t j = 0;
    while (*p && *p != '"') {
        if (*p == '\\') {
            p++;
            switch (*p) {
            case 'n': buf[j++] = '\n'; break;
            case 't': buf[j++] = '\t'; break;
            case 'r': buf[j++] = '\r'; break;
            case 'b': buf[j++] = '\b'; break;
            case 'f': buf[j++] = '\f'; break;
            case 'u': {
                unsigned cp = 0;
                for (int k = 1; k <= 4 && p[k]; k++) {
                    char h = p[k];
                    cp = cp * 16 + (h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
                }
                p += 4;
                if (cp < 0x80) buf[j++] = (char)cp;
                else if (cp < 0x800) { buf[j++] = 0xC0 | (cp >> 6); buf[j++] = 0x80 | (cp & 0x3F); }
                else { buf[j++] = 0xE0 | (cp >> 12); buf[j++] = 0x80 | ((cp >> 6) & 0x3F); buf[j++] = 0x80 | (cp & 0x3F); }
                break;
            }
            default: buf[j++] = *p;
            }
            p++;
        } else {
            buf[j++] = *p++;
        }
    }
    buf[j] = 0;
    *out = buf;
    return *p == '"' ? p + 1 : p;
}

/* Skips any JSON value. */
static const char *skip_value(const char *p) {
    p = skip_ws(p);
    if (*p == '"') { char *s; p = read_string(p, &s); free(s); return p; }
    if (*p == '{' || *p == '[') {
        char open = *p, close = open == '{' ? '}' : ']';
        p++;
        while (*(p = skip_ws(p)) && *p != close) {
            if (open == '{') { char *k; p = read_string(p, &k); free(k); p = skip_ws(p); if (*p == ':') p++; }
            p = skip_value(p);
            p = skip_ws(p);
            if (*p == ',') p++;
        }
        return *p ? p + 1 : p;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']') p++;
    return p;
}

/* The value of a top-level member of the object at json, or NULL. */
static const char *member(const char *json, const char *name) {
    const char *p = skip_ws(json);
    if (*p != '{') return NULL;
    p++;
    while (*(p = skip_ws(p)) && *p != '}') {
        char *key;
        p = read_string(p, &key);
        if (!key) return NULL;
        p = skip_ws(p);
        if (*p == ':') p++;
        p = skip_ws(p);
        int match = strcmp(key, name) == 0;
        free(key);
        if (match) return p;
        p = skip_value(p);
        p = skip_ws(p);
        if (*p == ',') p++;
    }
    return NULL;
}

static char *member_string(const char *json, const char *name) {
    const char *v = member(json, name);
    char *out = NULL;
    if (v && *v == '"') read_string(v, &out);
    return out;
}

static int member_bool(const char *json, const char *name) {
    const char *v = member(json, name);
    return v && strncmp(v, "true", 4) == 0;
}

/* Strings of an array, or of an object's "key=value" pairs; NULL-terminated, NULL when absent. */
static char **member_strings(const char *json, const char *name, int pairs) {
    const char *p = member(json, name);
    if (!p || (*p != '[' && *p != '{')) return NULL;
    char **out = calloc(4097, sizeof(char *));
    int n = 0;
    p++;
    while (*(p = skip_ws(p)) && *p != ']' && *p != '}' && n < 4096) {
        char *a, *b;
        p = read_string(p, &a);
        if (!a) { p = skip_value(p); }
        if (pairs && a) {
            p = skip_ws(p);
            if (*p == ':') p++;
            p = skip_ws(p);
            p = read_string(p, &b);
            char *kv = malloc(strlen(a) + strlen(b ? b : "") + 2);
            sprintf(kv, "%s=%s", a, b ? b : "");
            free(a);
            free(b);
            a = kv;
        }
        if (a) out[n++] = a;
        p = skip_ws(p);
        if (*p == ',') p++;
    }
    out[n] = NULL;
    return out;
}

static void free_strings(char **list) {
    if (!list) return;
    for (char **s = list; *s; s++) free(*s);
    free(list);
}

/* Splits a Windows command line as CommandLineToArgvW does (the inverse of execgate's escaping). */
static char **split_command_line(const char *line) {
    char **argv = calloc(4097, sizeof(char *));
    int argc = 0;
    const char *p = line;
    while (*p && argc < 4096) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        char *arg = malloc(strlen(p) + 1);
        size_t j = 0;
        int quoted = 0;
        while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
            size_t slashes = 0;
            while (*p == '\\') { slashes++; p++; }
            if (*p == '"') {
                for (size_t k = 0; k < slashes / 2; k++) arg[j++] = '\\';
                if (slashes % 2) { arg[j++] = '"'; p++; }
                else {
                    if (quoted && p[1] == '"') { arg[j++] = '"'; p++; }
                    else quoted = !quoted;
                    p++;
                }
            } else {
                for (size_t k = 0; k < slashes; k++) arg[j++] = '\\';
                if (*p && (quoted || (*p != ' ' && *p != '\t'))) arg[j++] = *p++;
            }
        }
        arg[j] = 0;
        argv[argc++] = arg;
    }
    argv[argc] = NULL;
    return argv;
}

/* ------------------------------------------------------------------ handles */

static handle *new_handle(int kind, size_t size) {
    handle *h = calloc(1, size);
    h->kind = kind;
    pthread_mutex_lock(&lock);
    open_handles++;
    pthread_mutex_unlock(&lock);
    return h;
}

static int close_handle(handle *h) {
    pthread_mutex_lock(&lock);
    int first = !h->closed;
    if (first) {
        h->closed = 1;
        open_handles--;
    }
    pthread_mutex_unlock(&lock);
    return first;
}

static void release_process(fake_process *p) {
    pthread_mutex_lock(&lock);
    int last = --p->refs == 0;
    if (last) {
        fake_process **link = &processes;
        while (*link && *link != p) link = &(*link)->next;
        if (*link) *link = p->next;
    }
    pthread_mutex_unlock(&lock);
    if (last) {
        if (p->held_fd >= 0) close(p->held_fd);
        if (p->master >= 0) close(p->master);
        pthread_mutex_destroy(&p->mutex);
        free(p);
    }
}

static fake_system *find_system(const char *id) {
    for (int i = 0; i < MAX_SYSTEMS; i++) {
        if (systems[i].used && !systems[i].removed && strcmp(systems[i].id, id) == 0) return &systems[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------ operations */

HCS_HANDLE HcsCreateOperation(void *context, void *callback) {
    (void)context;
    (void)callback;
    return new_handle(3, sizeof(operation));
}

void HcsCloseOperation(HCS_HANDLE op) {
    operation *o = op;
    if (!o) return;
    if (close_handle(&o->h)) {
        free(o->document);
        free(o);
    }
}

static void complete(operation *o, HRESULT result, const char *document) {
    o->started = 1;
    o->result = result;
    free(o->document);
    o->document = document ? strdup(document) : NULL;
}

static void fail(operation *o, HRESULT hr, const char *message) {
    char doc[1024];
    snprintf(doc, sizeof doc, "{\"Error\":%d,\"ErrorMessage\":\"%s\",\"ErrorEvents\":[{\"Message\":\"fake: %s\","
             "\"Provider\":\"00000000-0000-0000-0000-000000000000\",\"EventId\":1,\"Source\":\"fakecomputecore\"}]}",
             hr, message, message);
    complete(o, hr, doc);
}

HRESULT HcsWaitForOperationResult(HCS_HANDLE op, uint32_t timeout, wchar_t **document) {
    (void)timeout;
    operation *o = op;
    if (!o->started) return HCS_E_OPERATION_NOT_STARTED;
    set_doc(document, o->document);
    return o->result;
}

HRESULT HcsWaitForOperationResultAndProcessInfo(HCS_HANDLE op, uint32_t timeout, HCS_PROCESS_INFORMATION *info,
                                                wchar_t **document) {
    (void)timeout;
    operation *o = op;
    if (!o->started) return HCS_E_OPERATION_NOT_STARTED;
    if (!o->has_info) return E_INVALIDARG;
    set_doc(document, o->document);
    if (o->result == S_OK && o->info.ProcessId != 0 && !o->info_again && take_fault("wait-fails")) {
        return E_INVALIDARG; /* WS2022: the create completed, the wait says otherwise */
    }
    if (info && o->result == S_OK) *info = o->info;
    return o->result;
}

/* ------------------------------------------------------------------ systems */

HRESULT HcsEnumerateComputeSystems(const wchar_t *query, HCS_HANDLE op) {
    (void)query;
    char doc[16384];
    size_t n = 0;
    n += snprintf(doc + n, sizeof doc - n, "[");
    pthread_mutex_lock(&lock);
    int first = 1;
    for (int i = 0; i < MAX_SYSTEMS; i++) {
        fake_system *s = &systems[i];
        if (!s->used || s->removed) continue;
        n += snprintf(doc + n, sizeof doc - n,
                      "%s{\"Id\":\"%s\",\"SystemType\":\"%s\",\"Owner\":\"%s\",\"State\":\"%s\",\"RuntimeOsType\":\"%s\"}",
                      first ? "" : ",", s->id, s->type, s->owner, s->state, s->os);
        first = 0;
    }
    pthread_mutex_unlock(&lock);
    snprintf(doc + n, sizeof doc - n, "]");
    complete(op, S_OK, doc);
    return S_OK;
}

HRESULT HcsOpenComputeSystem(const wchar_t *id, uint32_t access, HCS_HANDLE *system) {
    (void)access;
    char *name = to_utf8(id);
    pthread_mutex_lock(&lock);
    fake_system *s = find_system(name);
    pthread_mutex_unlock(&lock);
    free(name);
    if (!s) return HCS_E_SYSTEM_NOT_FOUND;
    handle *h = new_handle(1, sizeof(handle));
    h->system = s;
    *system = h;
    return S_OK;
}

void HcsCloseComputeSystem(HCS_HANDLE system) {
    handle *h = system;
    if (h && close_handle(h)) free(h);
}

/* ------------------------------------------------------------------ processes */

static void deliver_exit(fake_process *p) {
    pthread_mutex_lock(&p->mutex);
    if (p->callback && p->event_pending) {
        p->event_pending = 0;
        char doc[256];
        snprintf(doc, sizeof doc, "{\"ProcessId\":%d,\"Exited\":true,\"ExitCode\":%u,\"LastWaitResult\":%d}",
                 (int)p->pid, (unsigned)p->exit_code, p->last_wait_result);
        wchar_t *wide = to_wide(doc);
        HCS_EVENT event = {EVENT_PROCESS_EXITED, wide, NULL};
        p->callback(&event, p->context);
        free(wide);
    }
    pthread_mutex_unlock(&p->mutex);
}

static void *wait_for_exit(void *arg) {
    fake_process *p = arg;
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
    }
    pthread_mutex_lock(&p->mutex);
    p->exited = 1;
    p->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (p->vanished) {
        p->exit_code = 0;
        p->last_wait_result = HCS_E_SYSTEM_NOT_FOUND;
    }
    p->event_pending = !p->no_exit_event && !(p->drop_early_event && !p->callback);
    pthread_mutex_unlock(&p->mutex);
    deliver_exit(p);
    release_process(p);
    return NULL;
}

static int open_pty(int *master, char *slave, size_t len, unsigned short rows, unsigned short cols) {
    *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*master < 0 || grantpt(*master) || unlockpt(*master) || ptsname_r(*master, slave, len)) return -1;
    struct winsize ws = {rows, cols, 0, 0};
    return ioctl(*master, TIOCSWINSZ, &ws);
}

HRESULT HcsCreateProcess(HCS_HANDLE system, const wchar_t *parameters, HCS_HANDLE op, const void *sd,
                         HCS_HANDLE *process) {
    (void)sd;
    handle *sh = system;
    operation *o = op;
    if (!sh || sh->kind != 1) return E_INVALIDARG;
    if (sh->system->removed) { fail(o, HCS_E_SYSTEM_NOT_FOUND, "the compute system does not exist"); return HCS_E_SYSTEM_NOT_FOUND; }
    char *json = to_utf8(parameters);
    record(last_create, sizeof last_create, json);
    int lcow = strcmp(sh->system->type, "Container") == 0 && strcmp(sh->system->os, "linux") == 0;
    const char *oci = member(json, "OciProcess");
    if (lcow != (oci != NULL) || (lcow && member(json, "CommandArgs"))) {
        /* A Linux container runs an OCI process spec; anything else takes CommandLine or CommandArgs. */
        free(json);
        fail(o, HCS_E_INVALID_JSON, lcow ? "a Linux container needs OciProcess" : "OciProcess is for Linux containers");
        return HCS_E_INVALID_JSON;
    }
    if (take_fault("create-error")) {
        free(json);
        fail(o, HCS_E_INVALID_JSON, "injected create failure");
        return HCS_E_INVALID_JSON;
    }
    char **argv = oci ? member_strings(oci, "args", 0) : member_strings(json, "CommandArgs", 0);
    if (!argv) {
        char *line = member_string(json, "CommandLine");
        argv = split_command_line(line ? line : "");
        free(line);
    }
    char **env = oci ? member_strings(oci, "env", 0) : member_strings(json, "Environment", 1);
    if (!env) env = calloc(1, sizeof(char *));
    int has_path = 0;
    size_t envc = 0;
    for (; env[envc]; envc++) has_path |= strncmp(env[envc], "PATH=", 5) == 0;
    if (!has_path) {
        env = realloc(env, (envc + 2) * sizeof(char *));
        env[envc++] = strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env[envc] = NULL;
    }
    char *cwd = oci ? member_string(oci, "cwd") : member_string(json, "WorkingDirectory");
    int console = oci ? member_bool(oci, "terminal") : member_bool(json, "EmulateConsole");
    int want_in = member_bool(json, "CreateStdInPipe"), want_out = member_bool(json, "CreateStdOutPipe");
    int want_err = member_bool(json, "CreateStdErrPipe") && !console;
    unsigned short rows = 25, cols = 80;
    const char *size = member(json, "ConsoleSize");
    if (size && *size == '[') sscanf(size, "[%hu,%hu]", &rows, &cols);
    const char *oci_size = oci ? member(oci, "consoleSize") : NULL;
    if (oci_size) {
        const char *h = member(oci_size, "height"), *w = member(oci_size, "width");
        if (h && w) { rows = (unsigned short)atoi(h); cols = (unsigned short)atoi(w); }
    }

    HRESULT hr = S_OK;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, master = -1;
    char slave[128] = "/dev/null";
    if (console) {
        if (open_pty(&master, slave, sizeof slave, rows, cols)) hr = E_INVALIDARG;
        posix_spawn_file_actions_addopen(&actions, 0, slave, O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&actions, 0, 1);
        posix_spawn_file_actions_adddup2(&actions, 0, 2);
    } else {
        if (want_in) { pipe2(in, O_CLOEXEC); posix_spawn_file_actions_adddup2(&actions, in[0], 0); }
        else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        if (want_out) { pipe2(out, O_CLOEXEC); posix_spawn_file_actions_adddup2(&actions, out[1], 1); }
        else posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        if (want_err) { pipe2(err, O_CLOEXEC); posix_spawn_file_actions_adddup2(&actions, err[1], 2); }
        else posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    if (cwd && *cwd) posix_spawn_file_actions_addchdir_np(&actions, cwd);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3); /* nothing of the JVM's leaks into the child */
    pid_t pid = -1;
    int rc = hr == S_OK && argv[0] ? posix_spawnp(&pid, argv[0], &actions, &attributes, argv, env) : ENOENT;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    free_strings(argv);
    free_strings(env);
    free(cwd);
    free(json);
    if (in[0] >= 0) close(in[0]);
    int hold_stdout = rc == 0 && take_fault("stdout-never-closed");
    if (out[1] >= 0 && !hold_stdout) { close(out[1]); out[1] = -1; }
    if (err[1] >= 0) close(err[1]);
    if (rc != 0) {
        if (in[1] >= 0) close(in[1]);
        if (out[0] >= 0) close(out[0]);
        if (err[0] >= 0) close(err[0]);
        if (master >= 0) close(master);
        char message[256];
        snprintf(message, sizeof message, "The system cannot find the file specified (%s)", strerror(rc));
        fail(o, (HRESULT)0x80070002, message);
        return (HRESULT)0x80070002;
    }

    fake_process *p = calloc(1, sizeof(fake_process));
    p->pid = pid;
    snprintf(p->system_id, sizeof p->system_id, "%s", sh->system->id);
    p->linux_os = strcmp(sh->system->os, "linux") == 0;
    p->refs = 2; /* the handle and the waiter */
    p->held_fd = -1;
    p->master = console ? master : -1;
    pthread_mutex_init(&p->mutex, NULL);
    if (hold_stdout) p->held_fd = out[1];
    p->no_exit_event = take_fault("no-exit-event");
    p->drop_early_event = take_fault("drop-early-event");
    pthread_mutex_lock(&lock);
    p->next = processes;
    processes = p;
    pthread_mutex_unlock(&lock);

    handle *ph = new_handle(2, sizeof(handle));
    ph->process = p;
    *process = ph;
    o->has_info = 1;
    o->info.ProcessId = (uint32_t)pid;
    o->info.StdInput = console ? (void *)(intptr_t)fcntl(master, F_DUPFD_CLOEXEC, 0) : want_in ? (void *)(intptr_t)in[1] : NULL;
    o->info.StdOutput = console ? (void *)(intptr_t)fcntl(master, F_DUPFD_CLOEXEC, 0) : want_out ? (void *)(intptr_t)out[0] : NULL;
    o->info.StdError = want_err ? (void *)(intptr_t)err[0] : NULL;
    p->info = o->info;
    complete(o, S_OK, NULL);

    pthread_t waiter;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&waiter, &attr, wait_for_exit, p);
    pthread_attr_destroy(&attr);
    if (p->drop_early_event) {
        /* The exit comes before the caller can register its callback, and is not replayed. */
        for (int i = 0; i < 500; i++) {
            pthread_mutex_lock(&p->mutex);
            int exited = p->exited;
            pthread_mutex_unlock(&p->mutex);
            if (exited) break;
            usleep(10000);
        }
    }
    return S_OK;
}

HRESULT HcsOpenProcess(HCS_HANDLE system, uint32_t pid, uint32_t access, HCS_HANDLE *process) {
    (void)access;
    handle *sh = system;
    if (!sh || sh->system->removed) return HCS_E_SYSTEM_NOT_FOUND;
    pthread_mutex_lock(&lock);
    fake_process *p = processes;
    while (p && !((uint32_t)p->pid == pid && strcmp(p->system_id, sh->system->id) == 0)) p = p->next;
    if (p) p->refs++;
    pthread_mutex_unlock(&lock);
    if (!p) return ERROR_NOT_FOUND_HR;
    handle *ph = new_handle(2, sizeof(handle));
    ph->process = p;
    *process = ph;
    return S_OK;
}

void HcsCloseProcess(HCS_HANDLE process) {
    handle *h = process;
    if (!h || !close_handle(h)) return;
    fake_process *p = h->process;
    /* No exit event for a close; the callback goes, and one running now is waited for. */
    pthread_mutex_lock(&p->mutex);
    if (p->callback_handle == h) {
        p->callback = NULL;
        p->callback_handle = NULL;
    }
    pthread_mutex_unlock(&p->mutex);
    free(h);
    release_process(p);
}

HRESULT HcsSetProcessCallback(HCS_HANDLE process, uint32_t options, void *context, HCS_EVENT_CALLBACK callback) {
    (void)options;
    handle *h = process;
    fake_process *p = h->process;
    pthread_mutex_lock(&p->mutex);
    if (p->callback) { pthread_mutex_unlock(&p->mutex); return HCS_E_CALLBACK_ALREADY_SET; }
    p->callback = callback;
    p->context = context;
    p->callback_handle = h;
    pthread_mutex_unlock(&p->mutex);
    deliver_exit(p); /* an exit that came before the callback */
    return S_OK;
}

static HRESULT gone(fake_process *p) {
    if (p->vanished) return HCS_E_SYSTEM_NOT_FOUND;
    if (p->no_exit_event && p->exited) return ERROR_NOT_FOUND_HR;
    return p->exited ? HCS_E_PROCESS_ALREADY_STOPPED : S_OK;
}

HRESULT HcsTerminateProcess(HCS_HANDLE process, HCS_HANDLE op, const wchar_t *options) {
    (void)options;
    fake_process *p = ((handle *)process)->process;
    pthread_mutex_lock(&p->mutex);
    HRESULT hr = gone(p);
    if (hr == S_OK) kill(-p->pid, SIGKILL); /* it leads its own session: what it started goes too */
    pthread_mutex_unlock(&p->mutex);
    complete(op, hr, NULL);
    return hr == S_OK ? S_OK : hr;
}

HRESULT HcsSignalProcess(HCS_HANDLE process, HCS_HANDLE op, const wchar_t *options) {
    fake_process *p = ((handle *)process)->process;
    char *json = to_utf8(options);
    record(last_signal, sizeof last_signal, json);
    int sig = 0;
    const char *v = json ? member(json, "Signal") : NULL;
    if (v && *v == '"') {
        char *name;
        read_string(v, &name);
        sig = strcmp(name, "CtrlC") == 0 ? SIGINT : strcmp(name, "CtrlBreak") == 0 ? SIGQUIT
            : strcmp(name, "CtrlShutdown") == 0 ? SIGTERM : strcmp(name, "CtrlClose") == 0 ? SIGHUP
            : strcmp(name, "CtrlLogOff") == 0 ? SIGHUP : 0;
        free(name);
    } else if (v) {
        sig = atoi(v);
    }
    free(json);
    pthread_mutex_lock(&p->mutex);
    HRESULT hr = sig <= 0 ? HCS_E_INVALID_JSON : gone(p);
    if (hr == S_OK) kill(p->pid, sig);
    pthread_mutex_unlock(&p->mutex);
    complete(op, hr, NULL);
    return hr;
}

HRESULT HcsGetProcessInfo(HCS_HANDLE process, HCS_HANDLE op) {
    operation *o = op;
    if (take_fault("getinfo-fails")) {
        fail(o, HCS_E_INVALID_STATE, "injected get-info failure");
        return HCS_E_INVALID_STATE;
    }
    o->has_info = 1;
    o->info_again = 1;
    o->info = ((handle *)process)->process->info; /* the create's descriptors, which its failed wait did not hand out */
    complete(o, S_OK, NULL);
    return S_OK;
}

/* ProcessStatus, as HCS reports it for HcsGetProcessProperties. */
HRESULT HcsGetProcessProperties(HCS_HANDLE process, HCS_HANDLE op, const wchar_t *query) {
    (void)query;
    fake_process *p = ((handle *)process)->process;
    char doc[256];
    pthread_mutex_lock(&p->mutex);
    snprintf(doc, sizeof doc, "{\"ProcessId\":%d,\"Exited\":%s,\"ExitCode\":%u,\"LastWaitResult\":%d}", (int)p->pid,
             p->exited ? "true" : "false", (unsigned)p->exit_code, p->last_wait_result);
    pthread_mutex_unlock(&p->mutex);
    complete(op, S_OK, doc);
    return S_OK;
}

HRESULT HcsModifyProcess(HCS_HANDLE process, HCS_HANDLE op, const wchar_t *settings) {
    fake_process *p = ((handle *)process)->process;
    char *json = to_utf8(settings);
    record(last_modify, sizeof last_modify, json);
    HRESULT hr;
    pthread_mutex_lock(&p->mutex);
    if (p->exited) {
        hr = HCS_E_INVALID_STATE;
    } else {
        char *operation_name = member_string(json, "Operation");
        hr = S_OK;
        if (operation_name && strcmp(operation_name, "ConsoleSize") == 0 && p->master >= 0) {
            const char *size = member(json, "ConsoleSize");
            unsigned short rows = 0, cols = 0;
            const char *h = size ? member(size, "Height") : NULL, *w = size ? member(size, "Width") : NULL;
            if (h && w) {
                rows = (unsigned short)atoi(h);
                cols = (unsigned short)atoi(w);
                struct winsize ws = {rows, cols, 0, 0};
                ioctl(p->master, TIOCSWINSZ, &ws);
            }
        } else if (operation_name && strcmp(operation_name, "CloseHandle") == 0 && p->master >= 0) {
            (void)!write(p->master, "\004\004", 2); /* a console's end of input */
        }
        free(operation_name);
    }
    pthread_mutex_unlock(&p->mutex);
    free(json);
    complete(op, hr, NULL);
    return hr;
}

/* ------------------------------------------------------------------ the test's controls */

void FakeHcs_Reset(void) {
    pthread_mutex_lock(&lock);
    memset(systems, 0, sizeof systems);
    fault[0] = 0;
    last_create[0] = last_modify[0] = last_signal[0] = 0;
    pthread_mutex_unlock(&lock);
}

int FakeHcs_AddSystem(const char *id, const char *type, const char *owner, const char *state, const char *os) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_SYSTEMS; i++) {
        if (!systems[i].used) {
            fake_system *s = &systems[i];
            s->used = 1;
            snprintf(s->id, sizeof s->id, "%s", id);
            snprintf(s->type, sizeof s->type, "%s", type);
            snprintf(s->owner, sizeof s->owner, "%s", owner);
            snprintf(s->state, sizeof s->state, "%s", state);
            snprintf(s->os, sizeof s->os, "%s", os);
            pthread_mutex_unlock(&lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&lock);
    return -1;
}

/* The system vanishes: its processes die, and their exit reports the system as not found. */
int FakeHcs_RemoveSystem(const char *id) {
    pthread_mutex_lock(&lock);
    fake_system *s = find_system(id);
    if (s) s->removed = 1;
    for (fake_process *p = processes; p; p = p->next) {
        pthread_mutex_lock(&p->mutex);
        if (strcmp(p->system_id, id) == 0 && !p->exited) {
            p->vanished = 1;
            kill(-p->pid, SIGKILL);
        }
        pthread_mutex_unlock(&p->mutex);
    }
    pthread_mutex_unlock(&lock);
    return s ? 0 : -1;
}

/* Sets the faults to inject, comma-separated; each applies once. */
void FakeHcs_SetFault(const char *names) {
    pthread_mutex_lock(&lock);
    snprintf(fault, sizeof fault, ",%s,", names ? names : "");
    pthread_mutex_unlock(&lock);
}

int FakeHcs_OpenHandles(void) {
    pthread_mutex_lock(&lock);
    int n = open_handles;
    pthread_mutex_unlock(&lock);
    return n;
}

/* Copies what the fake last received: "create", "modify" or "signal". */
int FakeHcs_LastRecord(const char *kind, char *buffer, int length) {
    const char *from = strcmp(kind, "create") == 0 ? last_create : strcmp(kind, "modify") == 0 ? last_modify : last_signal;
    pthread_mutex_lock(&lock);
    int n = snprintf(buffer, (size_t)length, "%s", from);
    pthread_mutex_unlock(&lock);
    return n;
}
