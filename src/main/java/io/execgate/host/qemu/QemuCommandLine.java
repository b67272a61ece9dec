package io.execgate.host.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The QEMU command line for one UVM: no disk, no network, no display; the kernel and initramfs from the image;
 * the serial console on QEMU's stdout; one virtio-serial port for the agent on a UNIX socket QEMU serves.
 * {@code microvm} boots fastest, but under software emulation its guest cannot calibrate its clock without the
 * host's TSC frequency ({@code tsc_early_khz}) and hangs; {@code q35} has the timers to calibrate against.
 */
final class QemuCommandLine {

    static final String PORT_NAME = "execgate.agent";

    private QemuCommandLine() {
    }

    /** How the VM will run: machine and accelerator, chosen from the host. */
    record Choice(String machine, String accel, OptionalLong tscKhz) {
    }

    static Choice choose(String configured, boolean kvm, OptionalLong tscKhz) {
        String machine = switch (configured.toLowerCase(Locale.ROOT)) {
            case "microvm" -> "microvm";
            case "q35" -> "q35";
            default -> kvm || tscKhz.isPresent() ? "microvm" : "q35";
        };
        return new Choice(machine, kvm ? "kvm" : "tcg", tscKhz);
    }

    static List<String> build(String binary, Choice choice, Path kernel, Path initrd, long memoryMiB, int cpus,
            Path agentSocket) {
        List<String> args = new ArrayList<>(List.of(binary,
                "-M", choice.machine(),
                "-accel", choice.accel(),
                "-cpu", choice.accel().equals("kvm") ? "host" : "max",
                "-smp", Integer.toString(cpus),
                "-m", memoryMiB + "M",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", "stdio",
                "-kernel", kernel.toString(),
                "-initrd", initrd.toString()));
        // Under emulation every second of guest kernel work is several of the host's. A utility VM skips what a
        // general machine checks at boot: the crypto self-tests, the TSC watchdog (its TSC is the host's constant
        // one) and the timer check, and seeds its RNG from the CPU. Together about a second less on 2 cores.
        StringBuilder append = new StringBuilder("console=ttyS0 quiet panic=-1 cryptomgr.notests tsc=reliable "
                + "no_timer_check random.trust_cpu=on");
        if (choice.machine().equals("microvm") && choice.tscKhz().isPresent() && choice.accel().equals("tcg")) {
            append.append(" tsc_early_khz=").append(choice.tscKhz().getAsLong());
        }
        args.addAll(List.of("-append", append.toString()));
        args.addAll(List.of("-device", choice.machine().equals("microvm") ? "virtio-serial-device" : "virtio-serial-pci",
                // QEMU splits options at commas; a comma in a value is written twice (a data-dir of "a,b")
                "-chardev", "socket,id=agent,path=" + agentSocket.toString().replace(",", ",,") + ",server=on,wait=off",
                "-device", "virtserialport,chardev=agent,name=" + PORT_NAME));
        return args;
    }

    /**
     * QEMU's command line run through util-linux's {@code setpriv}, which sets the parent-death signal to SIGKILL
     * and then executes QEMU (same pid): when the service dies, however it dies, the kernel kills its VMs. The
     * signal fires when the <em>thread</em> that started QEMU ends, so that thread must live as long as QEMU.
     */
    static List<String> dyingWithTheService(Path setpriv, List<String> qemu) {
        List<String> args = new ArrayList<>(List.of(setpriv.toString(), "--pdeathsig", "KILL", "--"));
        args.addAll(qemu);
        return args;
    }

    /** The host's TSC frequency in kHz from {@code /proc/cpuinfo}, when it has a constant one. */
    static OptionalLong hostTscKhz(Path cpuinfo) {
        try {
            String text = Files.readString(cpuinfo);
            if (!text.contains("constant_tsc")) {
                return OptionalLong.empty();
            }
            for (String line : text.split("\n")) {
                if (line.startsWith("cpu MHz")) {
                    double mhz = Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
                    return mhz > 0 ? OptionalLong.of(Math.round(mhz * 1000)) : OptionalLong.empty();
                }
            }
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }

    /**
     * Whether KVM can be used: {@code /dev/kvm} exists, the service may open it, and the CPU has hardware
     * virtualisation ({@code vmx} or {@code svm}). A {@code /dev/kvm} without those flags is a paravirtual KVM
     * (kvm-pvm, as on this project's build machines), which boots only kernels built for it: a stock guest kernel
     * hangs there silently, where software emulation would have booted it.
     */
    static boolean kvmUsable(Path devKvm, Path cpuinfo) {
        if (!Files.isReadable(devKvm) || !Files.isWritable(devKvm)) {
            return false;
        }
        try {
            return Files.readAllLines(cpuinfo).stream().filter(line -> line.startsWith("flags"))
                    .anyMatch(line -> (" " + line.substring(line.indexOf(':') + 1) + " ").matches(".* (vmx|svm) .*"));
        } catch (IOException e) {
            return false;
        }
    }
}
