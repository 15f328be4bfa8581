# Workload separating a process from its children: after "go" it forks a child that writes one
# byte to M fresh pages and exits. The parent itself barely faults, so counting the parent
# alone gives far fewer than M page faults, while perf stat -p (which follows children) gives
# M or more. Protocol: prints "ready", starts on "go", prints "done", exits at EOF.
import mmap
import os
import sys

pages = int(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
child = os.fork()
if child == 0:
    size = pages * mmap.PAGESIZE
    area = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    area.madvise(mmap.MADV_NOHUGEPAGE)
    for offset in range(0, size, mmap.PAGESIZE):
        area[offset] = 1
    os._exit(0)
os.waitpid(child, 0)
print("done", flush=True)
sys.stdin.readline()
