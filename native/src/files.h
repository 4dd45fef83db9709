/* The editor's file operations of files.c, shared by `dockside-sandbox file` (which enters the sandbox
 * first) and dockside-agent (already the sandbox's root, in place). */
#pragma once
#include "sandbox.h"

typedef struct {
  const char *op;
  const char *under; /* the jail, an absolute path inside the sandbox */
  const char *path;  /* below it (relative); "" for the jail itself */
  const char *path2; /* rename's target, relative */
  const char *arg;   /* create's type, write's --if-match */
  int root;          /* the sandbox's / */
} file_args_t;

/* Does a->op (list, read, write, create, rename, remove) below a->under of a->root, as run_inside's work
 * (`arg` is a file_args_t); answers `file`'s exit code, its output on stdout. */
int file_inside(const state_t *st, void *arg);
/* `path` below `under`, relative ("" for `under` itself); exits with EXIT_USAGE, or F_OUTSIDE (11), if it is not
 * absolute and normalised, or not below. */
const char *below(const char *under, const char *path);
