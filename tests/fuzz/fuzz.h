/* fuzz.h - what the libFuzzer harnesses share: input as a NUL-terminated string, a
 * scratch file and a state dir of their own per process, and split inputs. */
#ifndef RBX_FUZZ_H
#define RBX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a string (allocated; NULs end it early, as they would a C reader). */
char *fuzz_string(const uint8_t *data, size_t size);
/* The input written to this process's scratch file; its path. */
const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix);
/* A state dir of this process's own (RBX_STATE_DIR set to it), emptied. */
const char *fuzz_state_dir(void);
/* Split at the first '\n': *rest gets what follows (both allocated). */
char *fuzz_split(const uint8_t *data, size_t size, char **rest);

#endif
