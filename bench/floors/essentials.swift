// RSS floor: + FoundationEssentials (JSONDecoder, Data), as the daemon's own modules could use it.
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
print((try? JSONDecoder().decode([String: Int].self, from: Data("{\"a\":1}".utf8))) ?? [:])
sleep(2)
