/*
 * opath-stdin PATH COMMAND...: makes fd 0 an O_PATH descriptor of PATH (which opens nothing: a FIFO's reader
 * keeps waiting for a writer), says READY on stdout, and execs COMMAND. The container tests use it to play a
 * process that points its stdin at a file it may not open itself, to show the service never opens it either.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: opath-stdin PATH COMMAND...\n");
		return 2;
	}
	int fd = open(argv[1], O_PATH);
	if (fd < 0 || dup2(fd, 0) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (fd != 0)
		close(fd);
	printf("READY\n");
	fflush(stdout);
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
