/*
 * portal-load: the load side of `npm run bench -- portal`, in C so that the
 * client is never what is measured. It opens its sockets inside other network
 * namespaces with setns(2) (a socket stays in the namespace it was made in),
 * so one process drives 200 client namespaces and the wan at once.
 *
 *   portal-load crowd GW_IP GW_PORT SINK_NS SINK_IP SINK_PORT PROBE_MS TIMEOUT_MS USER_PREFIX PASSWORD NS...
 *     One TCP and one UDP socket in each client namespace NS, one UDP sink in
 *     SINK_NS. At the start every client connects to GW_IP:GW_PORT and sends
 *     the login form (POST /login, username USER_PREFIX<i>, PASSWORD). From
 *     its POST on, each client sends a datagram to the sink every PROBE_MS
 *     (and once more when its answer arrives) until the sink has one from it:
 *     that client is online at the kernel's receive time of that datagram
 *     (SO_TIMESTAMPNS), its first packet forwarded to the wan.
 *     Prints one JSON line: per client its address, HTTP status and the ms
 *     from the start to connected, posted, answered and online; the
 *     process's CPU time over the run.
 *
 *   portal-load stream SRC_NS DST_NS ADDR PORT WARMUP_MS MS SRC_CPU DST_CPU
 *     A TCP stream from SRC_NS (listening on ADDR:PORT) to DST_NS, each end
 *     a thread pinned to its CPU. The source sends from a memfd with
 *     sendfile(2) (no copy), the sink reads with MSG_TRUNC (tcp(7): the data
 *     is discarded, not copied), so the work left is the kernel's path in
 *     between. Bytes are counted over MS after WARMUP_MS. Prints one JSON
 *     line: bytes, ms, Mbit/s and each thread's CPU share.
 *
 * Needs root (setns). Built by bench/portal-lib-load.ts with gcc.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "portal-load: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ms(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* setns(2) into /run/netns/NAME (ip-netns(8)'s mount point). */
static void enter(const char *name) {
  char path[256];
  if (snprintf(path, sizeof path, "/run/netns/%s", name) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    die(name);
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  if (setns(fd, CLONE_NEWNET) < 0) die("setns");
  close(fd);
}

static void leave(int self) {
  if (setns(self, CLONE_NEWNET) < 0) die("setns back");
}

static struct sockaddr_in addr_of(const char *ip, const char *port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
    fprintf(stderr, "portal-load: bad address %s\n", ip);
    exit(2);
  }
  return a;
}

/* ---- crowd ---------------------------------------------------------------- */

struct client {
  const char *ns;
  int tcp, udp;
  struct in_addr ip;
  char request[512];
  size_t request_len;
  int status;
  double connected, posted, answered, online; /* ms from the start; -1 not yet */
  char head[64];
  size_t head_len;
};

/* epoll data: index << 1 | 0 for a client's TCP socket, the sink is ~0. */
#define SINK_TAG UINT64_MAX

static void probe(struct client *c) {
  static const char payload[] = "moat-portal-bench";
  /* Until the client is online the gateway drops these; errors (an ICMP from a reject) are expected. */
  (void)send(c->udp, payload, sizeof payload - 1, MSG_DONTWAIT);
}

static int crowd(int argc, char **argv) {
  if (argc < 11) {
    fprintf(stderr, "usage: portal-load crowd GW_IP GW_PORT SINK_NS SINK_IP SINK_PORT PROBE_MS TIMEOUT_MS USER_PREFIX PASSWORD NS...\n");
    return 2;
  }
  struct sockaddr_in gw = addr_of(argv[0], argv[1]);
  const char *sink_ns = argv[2];
  struct sockaddr_in sink_addr = addr_of(argv[3], argv[4]);
  double probe_ms = atof(argv[5]), timeout_ms = atof(argv[6]);
  const char *prefix = argv[7], *password = argv[8];
  int n = argc - 9;
  char **names = argv + 9;
  if (probe_ms <= 0 || timeout_ms <= 0 || strlen(prefix) > 64 || strlen(password) > 64) {
    fprintf(stderr, "portal-load: bad crowd arguments\n");
    return 2;
  }
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) die("/proc/self/ns/net");
  struct rlimit rl = {.rlim_cur = 4096, .rlim_max = 4096};
  setrlimit(RLIMIT_NOFILE, &rl);

  enter(sink_ns);
  int sink = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sink < 0) die("sink socket");
  int on = 1;
  if (setsockopt(sink, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) die("SO_TIMESTAMPNS");
  int big = 4 << 20;
  setsockopt(sink, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  if (bind(sink, (struct sockaddr *)&sink_addr, sizeof sink_addr) < 0) die("bind sink");
  leave(self);

  struct client *cs = calloc((size_t)n, sizeof *cs);
  if (cs == NULL) die("calloc");
  for (int i = 0; i < n; i++) {
    struct client *c = &cs[i];
    c->ns = names[i];
    c->connected = c->posted = c->answered = c->online = -1;
    enter(c->ns);
    c->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->tcp < 0 || c->udp < 0) die("client socket");
    /* Connecting the datagram socket picks the client's source address now. */
    if (connect(c->udp, (struct sockaddr *)&sink_addr, sizeof sink_addr) < 0) die(c->ns);
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    if (getsockname(c->udp, (struct sockaddr *)&me, &len) < 0) die("getsockname");
    c->ip = me.sin_addr;
    leave(self);
    char body[160];
    int blen = snprintf(body, sizeof body, "username=%s%d&password=%s", prefix, i, password);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &gw.sin_addr, host, sizeof host);
    c->request_len = (size_t)snprintf(c->request, sizeof c->request,
                                      "POST /login HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                                      "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                                      host, ntohs(gw.sin_port), blen, body);
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SINK_TAG};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, sink, &ev) < 0) die("epoll sink");

  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double t0 = now_ms(CLOCK_REALTIME);
  for (int i = 0; i < n; i++) {
    struct client *c = &cs[i];
    if (connect(c->tcp, (struct sockaddr *)&gw, sizeof gw) < 0 && errno != EINPROGRESS) die("connect");
    ev.events = EPOLLOUT;
    ev.data.u64 = (uint64_t)i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->tcp, &ev) < 0) die("epoll client");
  }
  int online = 0, open_tcp = n;
  double next_probe = t0 + probe_ms;
  struct epoll_event evs[256];
  char buf[2048];
  for (;;) {
    double t = now_ms(CLOCK_REALTIME);
    if ((online == n && open_tcp == 0) || t - t0 > timeout_ms) break;
    if (t >= next_probe) {
      for (int i = 0; i < n; i++)
        if (cs[i].posted >= 0 && cs[i].online < 0) probe(&cs[i]);
      next_probe = t + probe_ms;
    }
    int wait = (int)(next_probe - t) + 1;
    int k = epoll_wait(ep, evs, 256, wait < 1 ? 1 : wait);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < k; e++) {
      if (evs[e].data.u64 == SINK_TAG) {
        for (;;) {
          struct sockaddr_in from;
          char control[128];
          struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
          struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
          if (recvmsg(sink, &m, MSG_DONTWAIT) < 0) break;
          double when = now_ms(CLOCK_REALTIME);
          for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
              struct timespec ts;
              memcpy(&ts, CMSG_DATA(cm), sizeof ts);
              when = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
            }
          }
          for (int i = 0; i < n; i++) {
            if (cs[i].ip.s_addr == from.sin_addr.s_addr) {
              if (cs[i].online < 0) {
                cs[i].online = when - t0;
                online++;
              }
              break;
            }
          }
        }
        continue;
      }
      struct client *c = &cs[evs[e].data.u64];
      double at = now_ms(CLOCK_REALTIME) - t0;
      if (c->posted < 0) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->tcp, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          c->status = -err;
          epoll_ctl(ep, EPOLL_CTL_DEL, c->tcp, NULL);
          close(c->tcp);
          open_tcp--;
          continue;
        }
        c->connected = at;
        /* A few hundred bytes into an empty send buffer: all of it or an error. */
        if (write(c->tcp, c->request, c->request_len) != (ssize_t)c->request_len) die("write request");
        c->posted = at;
        probe(c);
        ev.events = EPOLLIN;
        ev.data.u64 = evs[e].data.u64;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->tcp, &ev);
        continue;
      }
      ssize_t r = read(c->tcp, buf, sizeof buf);
      if (r > 0) {
        size_t take = (size_t)r < sizeof c->head - 1 - c->head_len ? (size_t)r : sizeof c->head - 1 - c->head_len;
        memcpy(c->head + c->head_len, buf, take);
        c->head_len += take;
        c->head[c->head_len] = '\0';
        if (c->answered < 0 && c->head_len >= 12) {
          c->answered = at;
          c->status = atoi(c->head + 9); /* "HTTP/1.1 302" */
          if (c->online < 0) probe(c);
        }
        continue;
      }
      if (r < 0 && errno == EAGAIN) continue;
      if (c->answered < 0) c->status = r < 0 ? -errno : 0;
      epoll_ctl(ep, EPOLL_CTL_DEL, c->tcp, NULL);
      close(c->tcp);
      open_tcp--;
    }
  }
  double wall = now_ms(CLOCK_REALTIME) - t0;
  getrusage(RUSAGE_SELF, &ru1);
  double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3 +
               (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e3;
  printf("{\"wallMs\":%.3f,\"cpuMs\":%.3f,\"clients\":[", wall, cpu);
  for (int i = 0; i < n; i++) {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &cs[i].ip, ip, sizeof ip);
    printf("%s{\"ip\":\"%s\",\"status\":%d,\"connected\":%.3f,\"posted\":%.3f,\"answered\":%.3f,\"online\":%.3f}", i ? "," : "", ip, cs[i].status,
           cs[i].connected, cs[i].posted, cs[i].answered, cs[i].online);
  }
  printf("]}\n");
  return 0;
}

/* ---- stream --------------------------------------------------------------- */

struct stream {
  const char *src_ns, *dst_ns;
  struct sockaddr_in addr;
  int src_cpu, dst_cpu;
  int self;
  pthread_barrier_t listening;
  atomic_int stop;
  atomic_ullong bytes;
  pthread_t src, dst;
  int conns[2];
};

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
    errno = EINVAL;
    die("pin to cpu");
  }
}

static void *source(void *arg) {
  struct stream *s = arg;
  pin(s->src_cpu);
  enter(s->src_ns);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (l < 0 || bind(l, (struct sockaddr *)&s->addr, sizeof s->addr) < 0 || listen(l, 1) < 0) die("listen");
  pthread_barrier_wait(&s->listening);
  int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) die("accept");
  close(l);
  s->conns[0] = c;
  /* 16 MB in a memfd: page-cache pages sendfile(2) hands to TCP by reference. */
  const size_t size = 16 << 20;
  int fd = memfd_create("portal-load", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, (off_t)size) < 0) die("memfd");
  char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  memset(p, 'x', size);
  munmap(p, size);
  while (!atomic_load(&s->stop)) {
    off_t off = 0;
    while (off < (off_t)size && !atomic_load(&s->stop)) {
      if (sendfile(c, fd, &off, size - (size_t)off) < 0) {
        if (errno == EINTR) continue;
        if (atomic_load(&s->stop)) break;
        die("sendfile");
      }
    }
  }
  close(fd);
  return NULL;
}

static void *sink(void *arg) {
  struct stream *s = arg;
  pin(s->dst_cpu);
  enter(s->dst_ns);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c < 0) die("socket");
  pthread_barrier_wait(&s->listening);
  if (connect(c, (struct sockaddr *)&s->addr, sizeof s->addr) < 0) die("connect");
  s->conns[1] = c;
  static char buf[1 << 20];
  while (!atomic_load(&s->stop)) {
    ssize_t r = recv(c, buf, sizeof buf, MSG_TRUNC);
    if (r > 0) atomic_fetch_add(&s->bytes, (unsigned long long)r);
    else if (atomic_load(&s->stop)) break;
    else if (r == 0 || errno != EINTR) die("recv");
  }
  return NULL;
}

/*
 * CPU time of the ksoftirqd threads, ms. Softirq work runs in the context of
 * whichever thread raised it (and is charged to it: the kernel here has no
 * IRQ time accounting) unless there is so much that ksoftirqd takes it over;
 * counting those too makes the path's cost complete.
 */
static double ksoftirqd_ms(void) {
  /* Kernel threads have small pids: found once by their comm. */
  static int pids[64], found = -1;
  if (found < 0) {
    found = 0;
    for (int pid = 2; pid < 4096 && found < 64; pid++) {
      char path[64], comm[32] = "";
      snprintf(path, sizeof path, "/proc/%d/comm", pid);
      FILE *f = fopen(path, "r");
      if (f == NULL) continue;
      if (fgets(comm, sizeof comm, f) != NULL && strncmp(comm, "ksoftirqd/", 10) == 0) pids[found++] = pid;
      fclose(f);
    }
  }
  double total = 0;
  long tck = sysconf(_SC_CLK_TCK);
  for (int i = 0; i < found; i++) {
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(line, sizeof line, f) != NULL) {
      char *p = strrchr(line, ')');
      unsigned long ut = 0, st = 0;
      /* proc(5): after "pid (comm)": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime. */
      if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2) total += (double)(ut + st) * 1e3 / (double)tck;
    }
    fclose(f);
  }
  return total;
}

static double thread_cpu_ms(pthread_t t) {
  clockid_t id;
  if (pthread_getcpuclockid(t, &id) != 0) return -1;
  return now_ms(id);
}

static int stream(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: portal-load stream SRC_NS DST_NS ADDR PORT WARMUP_MS MS SRC_CPU DST_CPU\n");
    return 2;
  }
  static struct stream s;
  s.src_ns = argv[0];
  s.dst_ns = argv[1];
  s.addr = addr_of(argv[2], argv[3]);
  double warmup = atof(argv[4]), ms = atof(argv[5]);
  s.src_cpu = atoi(argv[6]);
  s.dst_cpu = atoi(argv[7]);
  s.conns[0] = s.conns[1] = -1;
  pthread_barrier_init(&s.listening, NULL, 2);
  if (pthread_create(&s.src, NULL, source, &s) != 0 || pthread_create(&s.dst, NULL, sink, &s) != 0) die("pthread_create");
  ksoftirqd_ms(); /* finds the threads now, not inside the window */
  struct timespec w = {.tv_sec = (time_t)(warmup / 1000), .tv_nsec = (long)((warmup - (time_t)(warmup / 1000) * 1000) * 1e6)};
  nanosleep(&w, NULL);
  unsigned long long b0 = atomic_load(&s.bytes);
  double t0 = now_ms(CLOCK_MONOTONIC), sc0 = thread_cpu_ms(s.src), dc0 = thread_cpu_ms(s.dst), k0 = ksoftirqd_ms();
  struct timespec d = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
  nanosleep(&d, NULL);
  unsigned long long b1 = atomic_load(&s.bytes);
  double t1 = now_ms(CLOCK_MONOTONIC), sc1 = thread_cpu_ms(s.src), dc1 = thread_cpu_ms(s.dst), k1 = ksoftirqd_ms();
  atomic_store(&s.stop, 1);
  for (int i = 0; i < 2; i++)
    if (s.conns[i] >= 0) shutdown(s.conns[i], SHUT_RDWR);
  pthread_join(s.src, NULL);
  pthread_join(s.dst, NULL);
  double el = t1 - t0;
  double gb = (double)(b1 - b0) / 1e9;
  printf("{\"bytes\":%llu,\"ms\":%.3f,\"mbps\":%.3f,\"srcCpu\":%.3f,\"dstCpu\":%.3f,\"ksoftirqdMs\":%.1f,\"cpuMsPerGB\":%.3f}\n", b1 - b0, el,
         (double)(b1 - b0) * 8 / (el / 1e3) / 1e6, (sc1 - sc0) / el, (dc1 - dc0) / el, k1 - k0, (sc1 - sc0 + dc1 - dc0 + k1 - k0) / gb);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && strcmp(argv[1], "crowd") == 0) return crowd(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "stream") == 0) return stream(argc - 2, argv + 2);
  fprintf(stderr, "usage: portal-load crowd|stream ...\n");
  return 2;
}
