# Workload for counting every thread: a thread that exists before the counters attach and a
# thread created after "go" each write one byte to M fresh pages. Counting both, once each,
# gives about 2×M page faults. Protocol: prints "ready", starts on "go", prints "done", exits at EOF.
import mmap
import sys
import threading

pages = int(sys.argv[1])
go = threading.Event()


def touch():
    size = pages * mmap.PAGESIZE
    area = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    area.madvise(mmap.MADV_NOHUGEPAGE)
    for offset in range(0, size, mmap.PAGESIZE):
        area[offset] = 1


def early():
    go.wait()
    touch()


first = threading.Thread(target=early)
first.start()
print("ready", flush=True)
sys.stdin.readline()
go.set()
second = threading.Thread(target=touch)
second.start()
first.join()
second.join()
print("done", flush=True)
sys.stdin.readline()
