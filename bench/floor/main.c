/* The floor server's process: flags, the listener, signals, the loop. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "floor.h"

enum { TAG_LISTEN = 1, TAG_SIGNAL = 2 };

static int lfd = -1, sfd = -1, reserve = -1, stop;

static void on_accept(void)
{
	/* A bounded number per wakeup; level-triggered epoll brings us back. */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			/* Out of descriptors: take one from the reserve to refuse the
			 * connection, or the listener stays ready and the loop spins. */
			close(reserve);
			fd = accept(lfd, NULL, NULL);
			if (fd >= 0)
				close(fd);
			reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
			continue;
		}
		return; /* EAGAIN, or an error of that one connection */
	}
}

static void other(uint64_t tag)
{
	if (tag == TAG_LISTEN) {
		on_accept();
	} else if (tag == TAG_SIGNAL) {
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof si) == sizeof si)
			stop = 1;
	}
}

/* flag_value reads "--name V", "-name V" or "--name=V" at argv[*i]; NULL
 * when argv[*i] is another flag. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, int *ok)
{
	const char *a = argv[*i];
	if (a[0] == '-' && a[1] == '-')
		a++;
	size_t n = strlen(name);
	if (a[0] != '-' || strncmp(a + 1, name, n) != 0)
		return NULL;
	if (a[1 + n] == '=')
		return a + 2 + n;
	if (a[1 + n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*ok = 0;
		return NULL;
	}
	return argv[++*i];
}

static long number(const char *v, long min, long max)
{
	char *end;
	long p = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || p < min || p > max)
		return -1;
	return p;
}

/* parse_flags: --port N (0: any free port); --ping-interval S and
 * --ping-timeout S, in seconds, for tests of the heartbeat only. */
static int parse_flags(int argc, char **argv, int *port)
{
	long interval = 25, timeout = 20;
	*port = 0;
	for (int i = 1; i < argc; i++) {
		int ok = 1;
		const char *v;
		if ((v = flag_value(argc, argv, &i, "port", &ok)) != NULL) {
			if ((*port = (int)number(v, 0, 65535)) < 0)
				ok = 0;
		} else if (ok && (v = flag_value(argc, argv, &i, "ping-interval", &ok)) != NULL) {
			if ((interval = number(v, 1, 3600)) < 0)
				ok = 0;
		} else if (ok && (v = flag_value(argc, argv, &i, "ping-timeout", &ok)) != NULL) {
			if ((timeout = number(v, 1, 3600)) < 0)
				ok = 0;
		} else {
			ok = 0;
		}
		if (!ok) {
			fprintf(stderr, "floor: bad argument %s (usage: floor --port N [--ping-interval S --ping-timeout S])\n", argv[i]);
			return -1;
		}
	}
	server_set_ping((uint32_t)interval, (uint32_t)timeout);
	return 0;
}

int main(int argc, char **argv)
{
	int port;
	if (parse_flags(argc, argv, &port) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN); /* a write to a reset peer is an error, not a death */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (server_init() < 0 || (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		perror("floor: failed to set up epoll or signals");
		return 1;
	}
	reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, SOMAXCONN) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("floor: failed to listen");
		return 1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN};
	struct epoll_event sev = {.events = EPOLLIN, .data.u64 = TAG_SIGNAL};
	if (epoll_ctl(server_epoll_fd(), EPOLL_CTL_ADD, lfd, &ev) < 0 ||
	    epoll_ctl(server_epoll_fd(), EPOLL_CTL_ADD, sfd, &sev) < 0) {
		perror("floor: failed to watch the listener");
		return 1;
	}
	printf("listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	while (!stop) {
		if (server_poll(1000, other) < 0) {
			perror("floor: epoll_wait failed");
			return 1;
		}
	}
	close(lfd);
	server_close_all();
	fprintf(stderr, "floor: accepted %llu, closed %llu, protocol errors %llu\n",
	        (unsigned long long)stats.accepted, (unsigned long long)stats.closed,
	        (unsigned long long)stats.protocol_errors);
	return 0;
}
