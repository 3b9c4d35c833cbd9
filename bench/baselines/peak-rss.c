/*
 * Runs a command and prints its peak RSS in KiB (ru_maxrss from wait4) on stderr as "peak-rss-kb N".
 *
 * Why: Linux keeps a process's pre-exec peak in ru_maxrss, so a baseline forked straight from bench/run (a Python
 * process of about 24 MB) would report at least that. Forked from this small launcher, the command starts from
 * this launcher's few hundred KiB instead, and the figure is the command's own (and its children's, for the shell).
 *
 * Usage: peak-rss COMMAND [ARG...]
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]); return 2; }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        execvp(argv[1], argv + 1);
        perror("exec");
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (wait4(child, &status, 0, &usage) < 0) { perror("wait4"); return 1; }
    fprintf(stderr, "peak-rss-kb %ld\n", usage.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
