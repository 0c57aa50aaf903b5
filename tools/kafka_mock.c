/*
 * kafka_mock - a Kafka cluster on 127.0.0.1 for tests and benchmarks: librdkafka's mock
 * cluster (rdkafka_mock.h), which speaks the Kafka wire protocol to producers and consumers
 * (kcat) alike, idempotent producers included.
 *
 *   kafka_mock [-b BROKERS] [-p PARTITIONS] [-t TOPIC]...
 *
 * Creates each TOPIC (default "flows") with PARTITIONS partitions (default 4), replicated on every
 * broker (default 3), prints the bootstrap list ("127.0.0.1:PORT,...") on one line of stdout,
 * then runs until SIGTERM or SIGINT. SIGUSR1 takes every broker down (connections cut, new
 * ones refused), SIGUSR2 brings them all back: a broker outage on demand. Each is acknowledged
 * with a line on stdout ("down" / "up"), once done.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
usage(void)
{
    fprintf(stderr, "usage: kafka_mock [-b BROKERS] [-p PARTITIONS] [-t TOPIC]...\n");
    exit(1);
}

int
main(int argc, char **argv)
{
    int brokers = 3, partitions = 4, opt, sig;
    const char *topics[64] = {"flows"};
    int n_topics = 0;
    char err[512];
    sigset_t set;

    while ((opt = getopt(argc, argv, "b:t:p:")) != -1) {
        switch (opt) {
        case 'b':
            brokers = atoi(optarg);
            break;
        case 't':
            if (n_topics == 64)
                usage();
            topics[n_topics++] = optarg;
            break;
        case 'p':
            partitions = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (brokers < 1 || partitions < 1)
        usage();
    /* Signals are taken by sigwait() in this thread only: block them before any thread. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    /* The mock cluster lives in a client instance's threads; this one produces nothing. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    for (int i = 0; i < (n_topics > 0 ? n_topics : 1); i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], partitions, brokers);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka_mock: topic %s: %s\n", topics[i], rd_kafka_err2str(e));
            return 1;
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGUSR1 || sig == SIGUSR2) {
            for (int b = 1; b <= brokers; b++) {
                if (sig == SIGUSR1)
                    rd_kafka_mock_broker_set_down(mc, b);
                else
                    rd_kafka_mock_broker_set_up(mc, b);
            }
            printf("%s\n", sig == SIGUSR1 ? "down" : "up");
            fflush(stdout);
            continue;
        }
        break;
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
