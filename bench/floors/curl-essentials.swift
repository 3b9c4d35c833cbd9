// RSS floor: libcurl initialised as the daemon does (global init, one multi and one easy handle), with essentials.
import FoundationEssentials
import CCurl
#if canImport(Glibc)
import Glibc
#endif
print((try? JSONDecoder().decode([String: Int].self, from: Data("{\"a\":1}".utf8))) ?? [:])
_ = curl_global_init(Int(CURL_GLOBAL_ALL))
print(curl_multi_init() != nil, curl_easy_init() != nil)
sleep(2)
