// RSS floor: + full Foundation linked in, through what swift-mustache 2.1.1 uses (NSLock, NSNull).
import Foundation
#if canImport(Glibc)
import Glibc
#endif
let lock = NSLock()
lock.lock()
lock.unlock()
print((try? JSONDecoder().decode([String: Int].self, from: Data("{\"a\":1}".utf8))) ?? [:], NSNull())
sleep(2)
