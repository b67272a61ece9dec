package io.execgate.exec;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.execgate.api.ApiException;

/**
 * What a process can receive as argv and environment: Linux refuses a single string over 128 KiB
 * ({@code MAX_ARG_STRLEN}) and all of them over the stack limit ({@code ARG_MAX}, 2 MiB by default). Checked
 * before anything starts, so the answer is a 400 naming the field rather than a failed start.
 */
final class ArgumentLimits {

    static final int MAX_STRING_BYTES = 128 * 1024;
    static final int MAX_TOTAL_BYTES = 1024 * 1024;

    private ArgumentLimits() {
    }

    static void check(List<String> command, List<String> env) {
        long total = 0;
        total += check("command", command);
        total += check("env", env);
        if (total > MAX_TOTAL_BYTES) {
            throw ApiException.invalid("command", "argv and env together take " + total + " bytes, more than "
                    + MAX_TOTAL_BYTES);
        }
    }

    private static long check(String field, List<String> values) {
        long total = 0;
        for (int i = 0; i < values.size(); i++) {
            int bytes = values.get(i).getBytes(StandardCharsets.UTF_8).length + 1; // and its NUL
            if (bytes > MAX_STRING_BYTES) {
                throw ApiException.invalid(field + "[" + i + "]", "is " + bytes + " bytes long; at most "
                        + MAX_STRING_BYTES + " are allowed");
            }
            total += bytes;
        }
        return total;
    }
}
