/**
 * Linux utility VMs on QEMU: execgate boots small VMs itself (microvm, KVM where {@code /dev/kvm} exists, software
 * emulation otherwise) from an image {@code uvm/build-image} makes, and runs commands in them through its own
 * guest agent over one virtio-serial port ({@code docs/uvm-agent-protocol.md}), as hcsshim's GCS serves LCOW UVMs.
 */
@NullMarked
package io.execgate.host.qemu;

import org.jspecify.annotations.NullMarked;
