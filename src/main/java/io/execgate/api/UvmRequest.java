package io.execgate.api;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Pattern;
import org.jspecify.annotations.Nullable;

/** {@code POST /api/v1/uvms}: the VM to boot; every field may be left out. */
@Schema(name = "UvmRequest", description = "A utility VM to boot with QEMU.")
record UvmRequest(
        @Schema(description = "The VM's id; a generated one when left out.", example = "uvm1")
        @Nullable @Pattern(regexp = "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}",
                message = "must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit") String id,
        @Schema(description = "Memory in MiB (default execgate.backends.qemu.memory).", example = "256")
        @Nullable @Min(128) @Max(16384) Integer memoryMiB,
        @Schema(description = "Virtual CPUs (default execgate.backends.qemu.cpus).", example = "1")
        @Nullable @Min(1) @Max(16) Integer cpus) {
}
