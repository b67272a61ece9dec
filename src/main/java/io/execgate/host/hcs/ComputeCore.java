package io.execgate.host.hcs;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.WString;
import com.sun.jna.ptr.PointerByReference;

/**
 * The parts of computecore.dll (HCS v2) execgate calls, with their C names and argument order. Handles
 * ({@code HCS_SYSTEM}, {@code HCS_PROCESS}, {@code HCS_OPERATION}) are opaque pointers; strings in are UTF-16
 * ({@link WString}); result documents come back through a {@code PWSTR*} the caller frees ({@code LocalFree}).
 * Functions return an {@code HRESULT}: negative means failure. A plain {@link Library}, not a {@code StdCallLibrary}:
 * HCS exists on x64 only, which has one calling convention, and the Linux fake is a plain C library.
 */
interface ComputeCore extends Library {

    int GENERIC_ALL = 0x10000000;
    int INFINITE = 0xFFFFFFFF;
    int HcsEventOptionNone = 0;
    int HcsEventProcessExited = 0x00010000;
    int HcsEventServiceDisconnect = 0x02000000;

    Pointer HcsCreateOperation(Pointer context, Callback callback);

    void HcsCloseOperation(Pointer operation);

    int HcsWaitForOperationResult(Pointer operation, int timeoutMs, PointerByReference resultDocument);

    int HcsWaitForOperationResultAndProcessInfo(Pointer operation, int timeoutMs, HCS_PROCESS_INFORMATION processInformation,
            PointerByReference resultDocument);

    int HcsEnumerateComputeSystems(WString query, Pointer operation);

    int HcsOpenComputeSystem(WString id, int requestedAccess, PointerByReference computeSystem);

    void HcsCloseComputeSystem(Pointer computeSystem);

    int HcsCreateProcess(Pointer computeSystem, WString processParameters, Pointer operation, Pointer securityDescriptor,
            PointerByReference process);

    int HcsOpenProcess(Pointer computeSystem, int processId, int requestedAccess, PointerByReference process);

    void HcsCloseProcess(Pointer process);

    int HcsTerminateProcess(Pointer process, Pointer operation, WString options);

    int HcsSignalProcess(Pointer process, Pointer operation, WString options);

    int HcsGetProcessInfo(Pointer process, Pointer operation);

    int HcsModifyProcess(Pointer process, Pointer operation, WString settings);

    int HcsGetProcessProperties(Pointer process, Pointer operation, WString propertyQuery);

    int HcsSetProcessCallback(Pointer process, int callbackOptions, Pointer context, HCS_EVENT_CALLBACK callback);

    /** {@code void CALLBACK (HCS_EVENT* event, void* context)}, called on HCS's threads. */
    interface HCS_EVENT_CALLBACK extends Callback {
        void callback(Pointer event, Pointer context);
    }

    /** {@code HCS_PROCESS_INFORMATION}: the pid and the stdio handles (null when not created), which the caller owns. */
    @Structure.FieldOrder({"ProcessId", "Reserved", "StdInput", "StdOutput", "StdError"})
    final class HCS_PROCESS_INFORMATION extends Structure {
        public int ProcessId;
        public int Reserved;
        public Pointer StdInput;
        public Pointer StdOutput;
        public Pointer StdError;
    }

    /** {@code HCS_EVENT}: its type, its JSON (or null) and, for operation callbacks, the operation. */
    @Structure.FieldOrder({"Type", "EventData", "Operation"})
    final class HCS_EVENT extends Structure {
        public int Type;
        public Pointer EventData;
        public Pointer Operation;

        HCS_EVENT(Pointer pointer) {
            super(pointer);
            read();
        }
    }
}
