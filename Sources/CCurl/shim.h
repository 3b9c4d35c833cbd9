// Typed wrappers around libcurl's variadic calls, which Swift cannot call directly.
// Every function is a thin, prefixed `static inline` forward; no logic lives here.
#ifndef IMDSWATCH_CCURL_SHIM_H
#define IMDSWATCH_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode imdswatch_curl_setopt_long(CURL *_Nonnull handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode imdswatch_curl_setopt_string(CURL *_Nonnull handle, CURLoption option, const char *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode imdswatch_curl_setopt_pointer(CURL *_Nonnull handle, CURLoption option, void *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode imdswatch_curl_setopt_slist(CURL *_Nonnull handle, CURLoption option, struct curl_slist *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*imdswatch_curl_data_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable context);

static inline CURLcode imdswatch_curl_setopt_write_function(CURL *_Nonnull handle, imdswatch_curl_data_callback _Nullable callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode imdswatch_curl_setopt_header_function(CURL *_Nonnull handle, imdswatch_curl_data_callback _Nullable callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode imdswatch_curl_getinfo_long(CURL *_Nonnull handle, CURLINFO info, long *_Nonnull value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode imdswatch_curl_getinfo_double(CURL *_Nonnull handle, CURLINFO info, double *_Nonnull value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode imdswatch_curl_setopt_private(CURL *_Nonnull handle, void *_Nullable value) {
    return curl_easy_setopt(handle, CURLOPT_PRIVATE, value);
}

static inline CURLcode imdswatch_curl_getinfo_private(CURL *_Nonnull handle, void *_Nullable *_Nonnull value) {
    return curl_easy_getinfo(handle, CURLINFO_PRIVATE, value);
}

// The result of a finished transfer: CURLMsg keeps it in a union.
static inline CURLcode imdswatch_curl_msg_result(const CURLMsg *_Nonnull message) {
    return message->data.result;
}

static inline int imdswatch_curl_msg_is_done(const CURLMsg *_Nonnull message) {
    return message->msg == CURLMSG_DONE;
}

#endif
