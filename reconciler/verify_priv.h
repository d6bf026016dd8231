/*
 * What verify.c shares with the files of its checks: the module's struct,
 * a signature and its payload, a tool's run and a check's finding, and
 * the functions between them. Nothing outside reconciler/verify*.c
 * includes it.
 */
#ifndef XDC_VERIFY_PRIV_H
#define XDC_VERIFY_PRIV_H

#include <stdatomic.h>
#include <stddef.h>

#include "reconciler/verify.h"

#define VERIFY_TOOL_MS  10000     /* one ssh-keygen or gpgconf run */
#define VERIFY_OUT_MAX  65536     /* what is kept of its stdout, stderr */
#define VERIFY_POLL_MS  50        /* how soon a cancel is seen */
#define VERIFY_KEYS_MAX (1 << 20) /* a trust file */

struct verify {
	char *vf_gpg;         /* --trust-gpg FILE, or NULL */
	char *vf_ssh;         /* --trust-ssh FILE, or NULL */
	atomic_int vf_cancel; /* verify_cancel: from another thread */
};

/* A signature and what it signs, copied out of the object. */
struct signed_obj {
	char *so_sig;
	size_t so_siglen;
	char *so_data;
	size_t so_datalen;
};

struct tool {
	char *tl_out; /* stdout, NUL-terminated, at most VERIFY_OUT_MAX */
	size_t tl_outlen;
	char *tl_err; /* stderr, likewise */
	size_t tl_errlen;
	int tl_status; /* the exit status; -1 when killed */
};

/* What a check found, before it becomes the message. */
struct finding {
	enum verify_reason fd_reason;
	const char *fd_what; /* "the commit", "tag v1" */
	const char *fd_kind; /* "OpenPGP", "SSH" */
	const char *fd_file; /* the trust file of that kind, or NULL */
	const char *fd_flag; /* its option */
	char *fd_key;        /* the key as seen: fingerprint or id */
	char *fd_detail;     /* the tool's words, or NULL */
};

/* verify_tool.c: a check's private directory, and the files in it. */
int verify_dir_make(char **out);
void verify_dir_remove(const char *dir);
int verify_put_file(const char *dir, const char *name, const void *buf,
    size_t len, char **path);

/* verify_tool.c: run argv, its stdin in (a file) or /dev/null, until it
 * exits, VERIFY_TOOL_MS pass or *cancel is set; t is freed with
 * verify_tool_free. */
int verify_tool_run(char *const argv[], const char *in,
    const atomic_int *cancel, struct tool *t);
void verify_tool_free(struct tool *t);
int verify_on_path(const char *name);
const char *verify_first_line(char *s);

/* verify_tool.c: the message f becomes, XDC_EUNVERIFIED; *reason set. */
int verify_refuse(struct finding *f, enum verify_reason *reason);

/* verify_gpg.c, verify_ssh.c: check so in dir; XDC_EUNVERIFIED with f
 * filled when refused; *signer: the key that signed, when good. */
extern int verify_gpgme_ready; /* gpgme_check_version was called */
int verify_gpg_init(void);
int verify_gpg_check(struct verify *v, const char *dir,
    const struct signed_obj *so, struct finding *f, char **signer);
int verify_ssh_check(struct verify *v, const char *dir,
    const struct signed_obj *so, struct finding *f, char **signer);

#endif /* XDC_VERIFY_PRIV_H */
