/**
 * WebSocket streams: attach to an exec, or create one and attach in one step, speaking Kubernetes'
 * {@code v5.channel.k8s.io} / {@code v4.channel.k8s.io} channel protocol so that Kubernetes client libraries
 * work unchanged. One blocking send per output chunk, from the exec's relay thread, is the backpressure.
 */
@NullMarked
package io.execgate.stream;

import org.jspecify.annotations.NullMarked;
