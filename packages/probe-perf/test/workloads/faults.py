# Workload with a known number of page faults: maps M fresh anonymous pages (no huge pages)
# and writes one byte to each, so each page faults once. Protocol on stdout/stdin: prints
# "ready", starts on a "go" line, prints "done", exits at EOF.
import mmap
import sys

pages = int(sys.argv[1])
size = pages * mmap.PAGESIZE
area = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
area.madvise(mmap.MADV_NOHUGEPAGE)
print("ready", flush=True)
sys.stdin.readline()
for offset in range(0, size, mmap.PAGESIZE):
    area[offset] = 1
print("done", flush=True)
sys.stdin.readline()
