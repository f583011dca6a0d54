/*
 * replay_main - runs a libFuzzer target without libFuzzer (gcc builds, the
 * sanitizer run): every file given on the command line (or in a directory
 * given) is fed as is, then a fixed number of deterministic mutations of
 * each (bit flips, truncations, byte insertions from a xorshift generator),
 * so the same inputs run every time. A directory's files are taken in name
 * order, so the mutations each file gets do not depend on the file system.
 */
#define _DEFAULT_SOURCE /* scandir, alphasort */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int runs_per_input = 200;
static unsigned long total;

static void run_mutations(const uint8_t *seed, size_t n)
{
    LLVMFuzzerTestOneInput(seed, n);
    total++;
    uint8_t *buf = malloc(n + 64);
    if (!buf)
        abort();
    for (int i = 0; i < runs_per_input; i++) {
        size_t len = n;
        memcpy(buf, seed, n);
        int edits = 1 + (int)(next() % 4);
        for (int e = 0; e < edits; e++) {
            switch (next() % 4) {
            case 0: if (len) buf[next() % len] ^= (uint8_t)(1u << (next() % 8)); break;
            case 1: if (len) len = next() % len; break;
            case 2: if (len) buf[next() % len] = (uint8_t)next(); break;
            case 3: if (len < n + 64) buf[len++] = (uint8_t)next(); break;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
        total++;
    }
    free(buf);
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t *data = malloc(1 << 20);
    size_t n = data ? fread(data, 1, 1 << 20, f) : 0;
    fclose(f);
    if (data)
        run_mutations(data, n);
    free(data);
}

int main(int argc, char **argv)
{
    const char *env = getenv("FUZZ_RUNS_PER_INPUT");
    if (env)
        runs_per_input = atoi(env);
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            /* Not a path: the argument itself is a seed. */
            run_mutations((const uint8_t *)argv[i], strlen(argv[i]));
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            run_file(argv[i]);
            continue;
        }
        struct dirent **list;
        int n = scandir(argv[i], &list, NULL, alphasort);
        for (int k = 0; k < n; k++) {
            if (list[k]->d_name[0] != '.') {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], list[k]->d_name);
                run_file(p);
            }
            free(list[k]);
        }
        if (n >= 0)
            free(list);
    }
    printf("%lu inputs, no crash\n", total);
    return 0;
}
