/*
 * mhd_bare - the smallest libmicrohttpd responder, as a reference for Volley's control plane.
 *
 *   mhd_bare PORT [BODY_FILE [THREADS]]
 *
 * Same daemon set-up as Volley's MicroHTTP (internal epoll threads, a pool of THREADS when more than
 * one: the agent serves from a pool of 4, so the harness passes 4; listen on 127.0.0.1), and, like it,
 * answers on the second call of the access handler so keep-alive connections stay open.
 * GET /v1/health -> {"status":"ok"}; any other GET -> the contents of BODY_FILE (a real job's JSON,
 * so both servers send the same bytes). Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *body = "{}";
static size_t body_len = 2;
static const char health[] = "{\"status\":\"ok\"}\n";

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state) {
    (void)cls; (void)method; (void)version; (void)upload;
    if (*state == NULL) { *state = (void *)1; return MHD_YES; }  /* first call: headers only */
    *upload_size = 0;
    int is_health = strcmp(url, "/v1/health") == 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(is_health ? sizeof(health) - 1 : body_len,
                                                             is_health ? (void *)health : body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: mhd_bare PORT [BODY_FILE [THREADS]]\n"); return 2; }
    unsigned threads = argc > 3 ? (unsigned)atoi(argv[3]) : 1;
    if (argc > 2) {
        FILE *f = fopen(argv[2], "rb");
        if (!f) { perror(argv[2]); return 1; }
        fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
        body = malloc((size_t)n); body_len = fread(body, 1, (size_t)n, f); fclose(f);
    }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(0x7f000001);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, NULL,
                                            MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                            MHD_OPTION_CONNECTION_LIMIT, 1152u,
                                            threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads,
                                            MHD_OPTION_END);
    if (!d) { fprintf(stderr, "mhd_bare: cannot start on port %s\n", argv[1]); return 1; }
    printf("ready\n");
    fflush(stdout);
    pause();
    MHD_stop_daemon(d);
    return 0;
}
