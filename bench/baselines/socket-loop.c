/*
 * Reference (d): the kernel's floor. The same four GETs per cycle over four kept-alive TCP connections written and
 * read with plain system calls (send, poll, recv): no HTTP library, no parsing beyond finding the token. On
 * loopback the kernel charges both ends' TCP work to the sender, so no poller on this machine can spend less CPU
 * per cycle than this.
 *
 * Usage: socket-loop BASE_URL CYCLES [INTERVAL_SECONDS]   (BASE_URL: http://127.0.0.1:PORT)
 * Build: cc -O2 -o socket-loop socket-loop.c   (bench/run does this)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int connect_to(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)port);
    if (fd < 0 || inet_pton(AF_INET, host, &address.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Reads one whole response: up to the end of the headers, then Content-Length bytes of body. */
static void read_response(int fd, char *buffer, size_t size) {
    size_t have = 0;
    for (;;) {
        ssize_t count = recv(fd, buffer + have, size - 1 - have, 0);
        if (count <= 0) { fprintf(stderr, "connection closed\n"); exit(1); }
        have += (size_t)count;
        buffer[have] = 0;
        char *end = strstr(buffer, "\r\n\r\n");
        if (!end) continue;
        char *field = strcasestr(buffer, "\r\nContent-Length:");
        size_t body = field && field < end ? strtoul(field + 17, NULL, 10) : 0;
        if (have >= (size_t)(end + 4 - buffer) + body) return;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s BASE_URL CYCLES [INTERVAL]\n", argv[0]); return 2; }
    char host[64] = {0};
    int port = 0;
    if (sscanf(argv[1], "http://%63[0-9.]:%d", host, &port) != 2) { fprintf(stderr, "BASE_URL: http://IPV4:PORT\n"); return 2; }
    long cycles = atol(argv[2]);
    double interval = argc > 3 ? atof(argv[3]) : 0;
    static const char *paths[4] = {
        "spot/instance-action", "events/recommendations/rebalance",
        "events/maintenance/scheduled", "autoscaling/target-lifecycle-state",
    };
    char buffer[65536], request[4][600], token[256] = {0};
    int lengths[4], fds[4];

    int control = connect_to(host, port);
    int length = snprintf(buffer, sizeof buffer, "PUT /latest/api/token HTTP/1.1\r\nHost: %s\r\n"
                          "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n", host);
    send(control, buffer, (size_t)length, 0);
    read_response(control, buffer, sizeof buffer);
    char *body = strstr(buffer, "\r\n\r\n");
    if (!body || sscanf(body + 4, "%255s", token) != 1) { fprintf(stderr, "no token\n"); return 1; }
    close(control);

    for (int i = 0; i < 4; i++) {
        fds[i] = connect_to(host, port);
        lengths[i] = snprintf(request[i], sizeof request[i], "GET /latest/meta-data/%s HTTP/1.1\r\nHost: %s\r\n"
                              "X-aws-ec2-metadata-token: %s\r\n\r\n", paths[i], host, token);
    }
    struct timespec pause = { (time_t)interval, (long)((interval - (long)interval) * 1e9) };
    for (long cycle = 0; cycle < cycles; cycle++) {
        struct pollfd waiting[4];
        for (int i = 0; i < 4; i++) {
            send(fds[i], request[i], (size_t)lengths[i], MSG_NOSIGNAL);
            waiting[i].fd = fds[i];
            waiting[i].events = POLLIN;
        }
        for (int answered = 0; answered < 4;) {
            if (poll(waiting, 4, 2000) <= 0) { fprintf(stderr, "no answer\n"); return 1; }
            for (int i = 0; i < 4; i++) {
                if (waiting[i].fd >= 0 && (waiting[i].revents & POLLIN)) {
                    read_response(fds[i], buffer, sizeof buffer);
                    waiting[i].fd = -1;
                    answered++;
                }
            }
        }
        if (interval > 0) nanosleep(&pause, NULL);
    }
    return 0;
}
