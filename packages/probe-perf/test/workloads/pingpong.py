# Workload with a known number of context switches: this process and a forked child pass one
# byte back and forth over two pipes N times, so each blocks about N times. Protocol on
# stdout/stdin: prints "ready" once both wait, starts on a "go" line, prints "done", exits at EOF.
import os
import sys

rounds = int(sys.argv[1])
to_child_r, to_child_w = os.pipe()
to_parent_r, to_parent_w = os.pipe()
child = os.fork()
if child == 0:
    os.close(to_child_w)
    os.close(to_parent_r)
    for _ in range(rounds):
        if os.read(to_child_r, 1) == b"":
            os._exit(1)
        os.write(to_parent_w, b"x")
    os._exit(0)
os.close(to_child_r)
os.close(to_parent_w)
print("ready", flush=True)
sys.stdin.readline()
for _ in range(rounds):
    os.write(to_child_w, b"x")
    os.read(to_parent_r, 1)
os.waitpid(child, 0)
print("done", flush=True)
sys.stdin.readline()
