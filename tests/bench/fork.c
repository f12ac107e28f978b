/*
 * fork.c - what one process per recipient costs on this machine, before
 * lda does anything in it: fork, _exit in the child, waitpid in the
 * parent, for a parent of HEAP_KB kB of touched heap (lda -z's server
 * holds about 2 MB), with the child and the parent each writing a given
 * number of pages (their copy-on-write faults), optionally both pinned to
 * one CPU. Prints microseconds per round. Not part of lda.
 *
 *   fork HEAP_KB CHILD_PAGES PARENT_PAGES PIN(0|1)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	size_t heap, cw, pw;
	struct timespec t0, t1;
	int n = 2000;
	char *h;

	if (argc != 5)
		return 2;
	heap = (size_t)atoi(argv[1]) * 1024;
	cw = (size_t)atoi(argv[2]);
	pw = (size_t)atoi(argv[3]);
	if (atoi(argv[4])) {
		cpu_set_t s;
		CPU_ZERO(&s);
		CPU_SET(0, &s);
		sched_setaffinity(0, sizeof s, &s);
	}
	if ((h = malloc(heap)) == NULL)
		return 1;
	memset(h, 1, heap);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			for (size_t k = 0; k < cw; k++)
				h[(k * 4096) % heap]++;
			_exit(0);
		}
		for (size_t k = 0; k < pw; k++)
			h[(k * 4096 + 1) % heap]++;
		waitpid(p, NULL, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec -
	    t0.tv_nsec)) / n / 1000);
	return 0;
}
