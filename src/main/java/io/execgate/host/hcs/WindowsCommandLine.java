package io.execgate.host.hcs;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Joins argv into a Windows command line by the rules {@code CommandLineToArgvW} reverses (Go's
 * {@code syscall.EscapeArg}, which hcsshim uses): an empty argument is {@code ""}; one without space, tab, quote or
 * backslash stays as it is; otherwise each quote is escaped, the backslashes right before a quote are doubled, and
 * an argument with a space or tab is quoted, its trailing backslashes doubled.
 */
final class WindowsCommandLine {

    private WindowsCommandLine() {
    }

    static String join(List<String> args) {
        return args.stream().map(WindowsCommandLine::escape).collect(Collectors.joining(" "));
    }

    static String escape(String arg) {
        if (arg.isEmpty()) {
            return "\"\"";
        }
        boolean quote = arg.indexOf(' ') >= 0 || arg.indexOf('\t') >= 0;
        if (!quote && arg.indexOf('"') < 0 && arg.indexOf('\\') < 0) {
            return arg;
        }
        StringBuilder out = new StringBuilder();
        if (quote) {
            out.append('"');
        }
        int slashes = 0;
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c == '\\') {
                slashes++;
                out.append('\\');
            } else if (c == '"') {
                out.append("\\".repeat(slashes)); // double the run before the quote
                out.append("\\\"");
                slashes = 0;
            } else {
                slashes = 0;
                out.append(c);
            }
        }
        if (quote) {
            out.append("\\".repeat(slashes)).append('"'); // a trailing run must not escape the closing quote
        }
        return out.toString();
    }
}
