/// What this binary is: shown by `sse-gateway --version`, exported as the labels of
/// `sse_gateway_build_info` and as the `service.version` of its traces.
package enum GatewayVersion {
    /// The release (semantic versioning); the Dockerfile's `VERSION` and the image tag in
    /// `k8s/kustomization.yaml` name the same one (checks/deploy compares them).
    package static let current = "0.1.0"

    /// The Swift compiler the binary was built with (major.minor).
    package static var swift: String {
        #if compiler(>=6.4)
        "6.4"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "6.1"
        #endif
    }
}
