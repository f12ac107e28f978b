/*
 * tree.h - the parsed form of one rc file: assignments and recipes in
 * file order, recipes holding their conditions and one action.
 * Does: describe what the parser builds and the evaluator walks.
 * Does not: hold run-time state (variables, scores); text that procmail
 * expands at run time is kept raw here and expanded by rc/expand.c.
 */
#ifndef RC_TREE_H
#define RC_TREE_H

#include <stddef.h>

struct rc_regex;

/* Recipe flags, one bit each (procmailrc(5) letters). */
enum {
	RC_F_H = 1 << 0,	/* egrep the header (default) */
	RC_F_B = 1 << 1,	/* egrep the body */
	RC_F_D = 1 << 2,	/* case-sensitive regexes */
	RC_F_A = 1 << 3,	/* only if the previous recipe matched */
	RC_F_a = 1 << 4,	/* ... and its action succeeded */
	RC_F_E = 1 << 5,	/* only if the previous recipe did not match */
	RC_F_e = 1 << 6,	/* only if the previous recipe's action failed */
	RC_F_c = 1 << 7,	/* carbon copy: continue after delivering */
	RC_F_f = 1 << 8,	/* the pipe is a filter */
	RC_F_w = 1 << 9,	/* wait for the program, check its exit code */
	RC_F_W = 1 << 10,	/* the same, quietly */
	RC_F_i = 1 << 11,	/* ignore write errors */
	RC_F_r = 1 << 12,	/* raw: no trailing newline added */
	RC_F_h = 1 << 13,	/* feed the header */
	RC_F_b = 1 << 14,	/* feed the body */
};

/* The flag letters in bit order, for parsing and for the trace. */
#define RC_FLAG_LETTERS "HBDAaEecfwWirhb"

enum rc_cond_kind {
	RC_COND_REGEX,		/* regex against the search area */
	RC_COND_LESS,		/* < size */
	RC_COND_GREATER,	/* > size */
	RC_COND_PROGRAM,	/* ? program: exit status 0 matches */
	RC_COND_EXPAND,		/* $ ...: expand, then parse as a condition */
};

struct rc_cond {
	int line;
	enum rc_cond_kind kind;
	int negate;		/* ! (toggled once per !) */
	int weighted;		/* w^x given */
	double w, x;
	int extended;		/* ~: TRE extended syntax (our extension) */
	char *area;		/* VAR of "VAR ??", "H", "B", "HB"; NULL: by flags */
	char *text;		/* regex, program, size or text to expand */
	struct rc_regex *re;	/* compiled once (regex kinds without $) */
	long size;		/* < and > */
};

enum rc_action_kind {
	RC_ACT_NONE,		/* missing (an error; the recipe is skipped) */
	RC_ACT_FOLDER,		/* one or more folders */
	RC_ACT_PIPE,		/* | program */
	RC_ACT_FORWARD,		/* ! address... */
	RC_ACT_BLOCK,		/* { nested } */
};

struct rc_node;

struct rc_recipe {
	unsigned flags;
	int nflags_given;	/* any flag letter given at all */
	int lock;		/* ":" after the flags */
	char *lockfile;		/* raw lockfile name, NULL: implicit */
	struct rc_cond *conds;
	size_t nconds;
	enum rc_action_kind act;
	char *action;		/* raw action text (expanded at run time) */
	char *capture;		/* VAR of "VAR=| program", or NULL */
	int action_line;
	struct rc_node *block;	/* RC_ACT_BLOCK: the nested statements */
	int broken;		/* a syntax error: never run, logged once */
};

enum rc_node_kind { RC_NODE_ASSIGN, RC_NODE_RECIPE };

struct rc_node {
	enum rc_node_kind kind;
	int line;
	struct rc_node *next;
	char *name;		/* ASSIGN: the variable */
	char *value;		/* ASSIGN: raw value, NULL means unset */
	struct rc_recipe *recipe;
};

/* One parsed file. */
struct rc_file {
	char *path;
	struct rc_node *first;
	int errors;		/* syntax errors found while parsing */
	int warnings;
};

#endif
