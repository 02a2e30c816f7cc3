/* quoteproof.c - the quoting proof: random values (bytes 1-255) rendered by rbx's shell
 * templates into every quoting context, run through a real shell; the bytes printed must
 * be the value's. A context the renderer refuses must be one the loader refuses.
 * Usage: quoteproof SHELL VALUES SEED   (exit 1, with the first differences, on a fault) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/template.h"

/* Each context: a command with V where the template goes, and what it prints around it. */
static const struct context {
	const char *name, *cmd, *before, *after;
} contexts[] = {
	{"bare", "printf '%s' V", "", ""},
	{"in a word", "printf '%s' pre-V-post", "pre-", "-post"},
	{"in '...'", "printf '%s' 'V'", "", ""},
	{"inside '...'", "printf '%s' 'a V b'", "a ", " b"},
	{"in \"...\"", "printf '%s' \"V\"", "", ""},
	{"inside \"...\"", "printf '%s' \"a $HOME-free V b\"", "a -free ", " b"},
	{"in $(...)", "printf '%s' \"$(printf '%s' V; printf .)\"", "", "."},
	{"in '...' in $(...)", "printf '%s' \"$(printf '%s' 'V'; printf .)\"", "", "."},
	{"in \"...\" in $(...)", "printf '%s' \"$(printf '%s' \"x V y\"; printf .)\"", "x ", " y."},
	{"nested $($(...))", "printf '%s' \"$(printf '%s' \"$(printf '%s' V; printf .)\"; printf .)\"", "",
	 ".."},
	{"after a here-document", "cat <<EOF\nline $HOME\nEOF\nprintf '%s' V", "line \n", ""},
	{"in an unquoted here-document", "cat <<EOF\nV\nEOF", "", "\n"},
	{NULL, NULL, NULL, NULL},
};

/* The command of a context for value i: V becomes {{params.vI}}. */
static char *
command_of(const struct context *c, size_t i)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	for (p = c->cmd; *p; p++)
		if (*p == 'V')
			buf_addf(&b, "{{params.v%zu}}", i);
		else
			buf_add(&b, p, 1);
	return buf_detach(&b);
}

/* One shell run for a batch: each value's command, its output ended by a NUL. */
static int
run_batch(const char *shell, const char *script, char **envp, struct buf *out)
{
	int fd[2];
	pid_t pid;
	char chunk[65536];
	ssize_t n;
	int status;

	if (pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		execle(shell, shell, "-c", script, (char *)NULL, envp);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
	close(fd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static char *
random_value(unsigned *seed)
{
	size_t len = 1 + (size_t)(rand_r(seed) % 48), i;
	char *v = malloc(len + 1);

	for (i = 0; i < len; i++) {
		/* Half the bytes from the ones shells care about, the rest from 1-255. */
		static const char special[] = "'\"\\$`\n\t !*?[]{}()|&;<>#~=%^-,";
		v[i] = rand_r(seed) % 2 ? special[rand_r(seed) % (sizeof(special) - 1)]
					: (char)(1 + rand_r(seed) % 255);
	}
	v[len] = 0;
	return v;
}

/* Prove one context over values: render each, run the batch, compare. */
static int
prove(const char *shell, const struct context *c, char **values, size_t n, size_t *checked)
{
	struct buf script, out;
	struct strmap params = {0}, vars = {0};
	char **envp = calloc(n + 2, sizeof(char *)), key[32];
	size_t i, k = 0, bad = 0;
	const char *p, *end;
	int rc = 0;

	buf_init(&script, 0);
	buf_init(&out, 0);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "v%zu", i);
		strmap_set(&params, key, values[i]);
	}
	for (i = 0; i < n; i++) {
		struct tmpl_ctx ctx = {"n42", "run", 1, &params, NULL, NULL, false, false, NULL, &vars};
		struct rbx_err err;
		char *cmd = command_of(c, i);
		if (template_render(cmd, TMPL_SHELL, &ctx, &script, &err) < 0) {
			/* Refused: it must be refused at load time, where the loader asks. */
			const char *at = strstr(cmd, "{{");
			const char *why = template_shell_context_error(cmd, (size_t)(at - cmd));
			printf("refused: %s (%s): the loader says: %s\n", c->name, err.msg,
			       why ? why : "nothing!");
			free(cmd);
			rc = why ? 0 : -1;
			goto out;
		}
		free(cmd);
		buf_adds(&script, "\nprintf '\\000'\n");
	}
	envp[k++] = xstrdup("PATH=/usr/bin:/bin");
	for (i = 0; i < vars.n; i++)
		envp[k++] = xasprintf("%s=%s", vars.keys[i], vars.vals[i]);
	if (run_batch(shell, script.data, envp, &out) < 0) {
		printf("FAIL %s with %s: the shell failed\n", c->name, shell);
		rc = -1;
		goto out;
	}
	p = out.data ? out.data : "";
	end = p + out.len;
	for (i = 0; i < n; i++) {
		char *want = xasprintf("%s%s%s", c->before, values[i], c->after);
		size_t got = p < end ? strnlen(p, (size_t)(end - p)) : 0;
		if (p >= end || got != strlen(want) || memcmp(p, want, got)) {
			if (bad++ < 3) {
				printf("FAIL %s with %s: value", c->name, shell);
				for (const char *q = values[i]; *q; q++)
					printf(" %02x", (unsigned char)*q);
				printf(" printed %zu bytes, not %zu\n", got, strlen(want));
			}
			rc = -1;
		}
		free(want);
		p += got + 1;
		(*checked)++;
	}
out:
	for (i = 0; i < k; i++)
		free(envp[i]);
	free(envp);
	strmap_release(&params);
	strmap_release(&vars);
	buf_release(&script);
	buf_release(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned seed;
	size_t total, done = 0, checked = 0, batch = 500, i;
	const struct context *c;
	int rc = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: quoteproof SHELL VALUES SEED\n");
		return 2;
	}
	total = strtoul(argv[2], NULL, 10);
	seed = (unsigned)strtoul(argv[3], NULL, 10);
	while (done < total) {
		size_t n = total - done < batch ? total - done : batch;
		char **values = calloc(n, sizeof(char *));
		for (i = 0; i < n; i++)
			values[i] = random_value(&seed);
		for (c = contexts; c->name; c++)
			if (prove(argv[1], c, values, n, &checked) < 0)
				rc = 1;
		for (i = 0; i < n; i++)
			free(values[i]);
		free(values);
		done += n;
	}
	printf("%s: %zu values x %zu contexts = %zu renderings printed back byte for byte%s\n",
	       argv[1], total, (size_t)(sizeof(contexts) / sizeof(*contexts) - 1), checked,
	       rc ? " (with FAILURES above)" : "");
	return rc;
}
