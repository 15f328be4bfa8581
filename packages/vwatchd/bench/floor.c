/*
 * The C floor of the CPU benchmark (cpu.mjs): what a recorder that reads every process the
 * plain way costs. Once a second, for every pid in /proc, it opens, reads and closes stat,
 * status, io and cmdline into one buffer, parsing nothing. Usage: floor SECONDS.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buffer[1 << 16];

static void read_file(const char *pid, const char *file) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/%s", pid, file);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  while (read(fd, buffer, sizeof buffer) > 0) {
  }
  close(fd);
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 60;
  static const char *files[] = {"stat", "status", "io", "cmdline"};
  for (int second = 0; second < seconds; second++) {
    DIR *proc = opendir("/proc");
    if (proc == NULL) return 1;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
      if (!isdigit((unsigned char)entry->d_name[0])) continue;
      for (int i = 0; i < 4; i++) read_file(entry->d_name, files[i]);
    }
    closedir(proc);
    struct timespec pause = {1, 0};
    nanosleep(&pause, NULL);
  }
  return 0;
}
