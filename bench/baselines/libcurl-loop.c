/*
 * Baseline (c): the floor of any libcurl-based poller. One token, then each cycle the four lifecycle GETs run
 * concurrently on one multi handle with kept-alive connections, from C with no allocations per cycle, then a sleep.
 * imdswatch cannot cost less than this per cycle: it makes the same libcurl calls and the same system calls.
 *
 * Usage: libcurl-loop BASE_URL CYCLES [INTERVAL_SECONDS]
 * Build: cc -O2 -o libcurl-loop libcurl-loop.c -lcurl   (bench/run does this)
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data; (void)context;
    return size * count;
}

static size_t keep_token(char *data, size_t size, size_t count, void *context) {
    strncat((char *)context, data, size * count < 255 ? size * count : 255);
    return size * count;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s BASE_URL CYCLES [INTERVAL]\n", argv[0]); return 2; }
    const char *base = argv[1];
    long cycles = atol(argv[2]);
    double interval = argc > 3 ? atof(argv[3]) : 0;
    static const char *paths[4] = {
        "spot/instance-action", "events/recommendations/rebalance",
        "events/maintenance/scheduled", "autoscaling/target-lifecycle-state",
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);

    char url[512], token[256] = {0}, header[320];
    CURL *put = curl_easy_init();
    struct curl_slist *ttl = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    curl_easy_setopt(put, CURLOPT_URL, url);
    curl_easy_setopt(put, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(put, CURLOPT_HTTPHEADER, ttl);
    curl_easy_setopt(put, CURLOPT_WRITEFUNCTION, keep_token);
    curl_easy_setopt(put, CURLOPT_WRITEDATA, token);
    if (curl_easy_perform(put) != CURLE_OK) { fprintf(stderr, "token request failed\n"); return 1; }
    snprintf(header, sizeof header, "X-aws-ec2-metadata-token: %s", token);
    struct curl_slist *headers = curl_slist_append(NULL, header);

    CURLM *multi = curl_multi_init();
    CURL *gets[4];
    char urls[4][512];
    for (int i = 0; i < 4; i++) {
        gets[i] = curl_easy_init();
        snprintf(urls[i], sizeof urls[i], "%s/latest/meta-data/%s", base, paths[i]);
        curl_easy_setopt(gets[i], CURLOPT_URL, urls[i]);
        curl_easy_setopt(gets[i], CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(gets[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(gets[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(gets[i], CURLOPT_TIMEOUT_MS, 2000L);
    }
    struct timespec pause = { (time_t)interval, (long)((interval - (long)interval) * 1e9) };
    for (long cycle = 0; cycle < cycles; cycle++) {
        for (int i = 0; i < 4; i++) curl_multi_add_handle(multi, gets[i]);
        int running = 1;
        while (running) {
            curl_multi_perform(multi, &running);
            if (running) curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
        CURLMsg *message;
        int queued;
        while ((message = curl_multi_info_read(multi, &queued))) curl_multi_remove_handle(multi, message->easy_handle);
        if (interval > 0) nanosleep(&pause, NULL);
    }
    return 0;
}
