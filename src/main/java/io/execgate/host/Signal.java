package io.execgate.host;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A POSIX signal by name and Linux number. Parsing accepts what {@code kill(1)} and {@code docker kill}
 * accept: {@code SIGTERM}, {@code TERM}, {@code term}, {@code 15}, {@code SIGRTMIN+3}.
 */
public record Signal(String name, int number) {

    public static final Signal SIGHUP = new Signal("SIGHUP", 1);
    public static final Signal SIGINT = new Signal("SIGINT", 2);
    public static final Signal SIGKILL = new Signal("SIGKILL", 9);
    public static final Signal SIGTERM = new Signal("SIGTERM", 15);

    // Linux's generic numbering (x86, arm, arm64, riscv); glibc keeps 32 and 33 for itself, so SIGRTMIN is 34.
    private static final String[] NAMES = {null, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
            "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
            "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
            "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"};
    private static final int RTMIN = 34;
    private static final int RTMAX = 64;
    private static final Map<String, Integer> BY_NAME = new TreeMap<>();

    static {
        for (int n = 1; n < NAMES.length; n++) {
            BY_NAME.put(NAMES[n], n);
        }
        BY_NAME.put("SIGIOT", 6);
        BY_NAME.put("SIGPOLL", 29);
        BY_NAME.put("SIGRTMIN", RTMIN);
        BY_NAME.put("SIGRTMAX", RTMAX);
    }

    public Signal {
        if (number < 1 || number > RTMAX) {
            throw new IllegalArgumentException("signal number out of range 1.." + RTMAX + ": " + number);
        }
    }

    /** The signal with this Linux number, named as {@code kill -l} names it. */
    public static Signal of(int number) {
        if (number >= 1 && number < NAMES.length) {
            return new Signal(NAMES[number], number);
        }
        if (number >= RTMIN && number <= RTMAX) {
            int offset = number - RTMIN;
            return new Signal(offset == 0 ? "SIGRTMIN" : number == RTMAX ? "SIGRTMAX" : "SIGRTMIN+" + offset, number);
        }
        throw new IllegalArgumentException("no signal has the number " + number);
    }

    /**
     * The signal a process was killed by: as {@link #of}, and also glibc's own 32 and 33 (named {@code SIG32} and
     * {@code SIG33}), which nobody should send but which a process that reset them without glibc (a Go or musl
     * program, a raw {@code rt_sigaction}) can still die of.
     */
    public static Signal killedBy(int number) {
        if (number == RTMIN - 2 || number == RTMIN - 1) {
            return new Signal("SIG" + number, number);
        }
        return of(number);
    }

    /**
     * Parses a signal name or number.
     *
     * @throws IllegalArgumentException naming the value when it is not a signal
     */
    public static Signal parse(String value) {
        String text = value.strip();
        if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
            try {
                return of(Integer.parseInt(text));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("no signal has the number " + text);
            }
        }
        Signal console = WINDOWS_CONSOLE.get(text.toLowerCase(Locale.ROOT));
        if (console != null) {
            return console;
        }
        String name = text.toUpperCase(Locale.ROOT);
        if (!name.startsWith("SIG")) {
            name = "SIG" + name;
        }
        Integer number = BY_NAME.get(name);
        if (number == null) {
            number = realtime(name);
        }
        if (number == null) {
            throw new IllegalArgumentException("unknown signal '" + value + "' (use a name such as SIGTERM or a number)");
        }
        return of(number);
    }

    /**
     * Windows console control events by the names HCS takes, as the signals they stand for: a process in a Windows
     * container receives them as those events ({@code CtrlShutdown} is what Windows sends for SIGTERM).
     */
    private static final Map<String, Signal> WINDOWS_CONSOLE = Map.of(
            "ctrlc", SIGINT, "ctrlbreak", new Signal("SIGQUIT", 3), "ctrlclose", SIGHUP, "ctrlshutdown", SIGTERM);

    private static Integer realtime(String name) {
        int sign = name.indexOf('+') > 0 ? 1 : name.indexOf('-') > 0 ? -1 : 0;
        if (sign == 0) {
            return null;
        }
        int at = name.indexOf(sign > 0 ? '+' : '-');
        Integer base = BY_NAME.get(name.substring(0, at));
        String offset = name.substring(at + 1);
        if (base == null || (base != RTMIN && base != RTMAX) || offset.isEmpty()
                || !offset.chars().allMatch(Character::isDigit) || offset.length() > 2) {
            return null;
        }
        int number = base + sign * Integer.parseInt(offset);
        return number >= RTMIN && number <= RTMAX ? number : null;
    }
}
