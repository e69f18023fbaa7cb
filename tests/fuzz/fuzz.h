/*
 * What the harnesses share. Each is a libFuzzer target: LLVMFuzzerTestOneInput
 * runs the code under test on one input and aborts (a crash libFuzzer
 * reports, with the input kept) when a property of its answer fails.
 */
#ifndef DK_FUZZ_H
#define DK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,          \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
