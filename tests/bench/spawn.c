/*
 * spawn.c - the benchmarks' MTA: runs a local delivery agent once per
 * message the way postfix's pipe(8) or local(8) does, so that every LDA
 * is timed as an MTA really starts it and not behind extra programs.
 *
 * Per message: fork; in the child setgid + setgroups (the one group) +
 * setuid to USER as postfix's set_ugid() does, a five-variable
 * environment (HOME PATH USER LOGNAME SHELL), the message file on stdin
 * (opened by the parent), stdout to /dev/null, stderr appended to ERR,
 * one execve; in the parent wait4. The first non-zero exit stops the batch (exit 1,
 * the command and file named on stderr and in ERR): timing a failing LDA
 * is worthless.
 *
 *   spawn -u USER [-e ERR] [-s STATS] [-t TIMES] [-n COUNT] SRC -- CMD...
 *
 * SRC is a directory (every *.eml in it, sorted) or a file (delivered
 * COUNT times). STATS gets one line "n Xm#.###s Xm#.###s" (messages,
 * children's user and system CPU: bash `times` format, which the report
 * scripts parse) and STATS.ran is created. TIMES gets one line per
 * message: the microseconds from fork to the end of wait4.
 *
 * Not an LDA test: it checks nothing but exit codes; the scripts check
 * where the mail went. Run as root (it must change to USER).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "spawn: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every SRC/x.eml, sorted; or SRC count times */
static char **messages(const char *src, long count, size_t *n)
{
	DIR *d = opendir(src);
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;

	*n = 0;
	if (d == NULL) {
		if (errno != ENOTDIR)
			die(src);
		if ((v = calloc((size_t)count + 1, sizeof *v)) == NULL)
			die("calloc");
		for (*n = 0; *n < (size_t)count; (*n)++)
			v[*n] = (char *)src;
		return v;
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		if (*n + 1 >= cap) {
			cap = cap ? cap * 2 : 256;
			if ((v = realloc(v, cap * sizeof *v)) == NULL)
				die("realloc");
		}
		if (asprintf(&v[(*n)++], "%s/%s", src, e->d_name) < 0)
			die("asprintf");
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

/* the child: drop to the user, fds 0 1 2, exec */
static void child(const struct passwd *pw, char *const env[], int in, int out,
		  int err, char *const argv[])
{
	if (setgid(pw->pw_gid) != 0 || setgroups(1, &pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		die("dropping to the user");
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || (err >= 0 && dup2(err, 2) < 0))
		die("dup2");
	closefrom(3);
	execve(argv[0], argv, env);
	die(argv[0]);
}

static double secs(struct timeval t)
{
	return t.tv_sec + t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	const char *user = NULL, *err = NULL, *stats = NULL, *times = NULL;
	long count = 1;
	int c;

	while ((c = getopt(argc, argv, "+u:e:s:t:n:")) != -1) {
		switch (c) {
		case 'u': user = optarg; break;
		case 'e': err = optarg; break;
		case 's': stats = optarg; break;
		case 't': times = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!user || optind + 2 >= argc || strcmp(argv[optind + 1], "--") != 0 || count < 0) {
		fprintf(stderr, "usage: spawn -u USER [-e ERR] [-s STATS] [-t TIMES] [-n COUNT] SRC -- CMD...\n");
		return 2;
	}
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "spawn: %s: no such user\n", user);
		return 2;
	}
	static char e_home[512], e_user[128], e_logname[128];
	snprintf(e_home, sizeof e_home, "HOME=%s", pw->pw_dir);
	snprintf(e_user, sizeof e_user, "USER=%s", pw->pw_name);
	snprintf(e_logname, sizeof e_logname, "LOGNAME=%s", pw->pw_name);
	char *env[] = { e_home, "PATH=/usr/bin:/bin", e_user, e_logname, "SHELL=/bin/sh", NULL };
	char **cmd = argv + optind + 2;
	size_t n, i;
	char **files = messages(argv[optind], count, &n);
	FILE *tf = NULL;
	struct rusage all = { 0 };
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC), errfd = -1;

	if (out < 0)
		die("/dev/null");
	if (err && (errfd = open(err, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
		die(err);
	if (times && (tf = fopen(times, "a")) == NULL)
		die(times);
	for (i = 0; i < n; i++) {
		struct timespec t0, t1;
		struct rusage ru;
		int status, in = open(files[i], O_RDONLY | O_CLOEXEC);
		pid_t pid;

		if (in < 0)
			die(files[i]);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((pid = fork()) < 0)
			die("fork");
		if (pid == 0)
			child(pw, env, in, out, errfd, cmd);
		if (wait4(pid, &status, 0, &ru) < 0)
			die("wait4");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		close(in);
		timeradd(&all.ru_utime, &ru.ru_utime, &all.ru_utime);
		timeradd(&all.ru_stime, &ru.ru_stime, &all.ru_stime);
		if (tf)
			fprintf(tf, "%ld\n", (long)((t1.tv_sec - t0.tv_sec) * 1000000L +
						    (t1.tv_nsec - t0.tv_nsec) / 1000));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			FILE *ef = err ? fopen(err, "a") : NULL;
			for (FILE *o = stderr; o; o = (o == stderr ? ef : NULL)) {
				fprintf(o, "bench: FAILED: exit %d from:", code);
				for (char **a = cmd; *a; a++)
					fprintf(o, " %s", *a);
				fprintf(o, " <%s\n", files[i]);
			}
			if (ef)
				fclose(ef);
			return 1;
		}
	}
	if (tf && fclose(tf) != 0)
		die(times);
	if (stats) {
		FILE *sf = fopen(stats, "a");
		char ran[4096];
		double u = secs(all.ru_utime), s = secs(all.ru_stime);
		if (sf == NULL)
			die(stats);
		fprintf(sf, "%zu %dm%.3fs %dm%.3fs\n", n, (int)(u / 60), u - 60 * (int)(u / 60),
			(int)(s / 60), s - 60 * (int)(s / 60));
		if (fclose(sf) != 0)
			die(stats);
		snprintf(ran, sizeof ran, "%s.ran", stats);
		int fd = open(ran, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(ran);
		close(fd);
	}
	return 0;
}
