// RSS floor: a statically linked Swift program that only prints (bench/rss-floors).
#if canImport(Glibc)
import Glibc
#endif
print("floor")
sleep(2)
