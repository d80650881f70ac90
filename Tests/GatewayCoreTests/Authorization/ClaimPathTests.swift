import GatewayCore
import Testing

@Suite struct ClaimPathTests {
    /// A Keycloak access token's claims, with an Auth0-style namespaced claim and an
    /// Entra ID `extn.` claim beside them.
    private let claims: [String: JSONValue] = [
        "sub": "s-1",
        "realm_access": .object(["roles": .array(["lms-student", "offline_access"])]),
        "resource_access": .object([
            "sse-gateway": .object(["roles": .array(["lms-admin"])]),
            "account": .object(["roles": .array(["manage-account"])]),
        ]),
        "https://lms.example.com/roles": .array(["instructor"]),
        "extn.student_ids": .array(["s-7"]),
        "extn": .object(["student_ids": .array(["never-read"])]),
        "lms": "not an object",
    ]

    @Test func readsATopLevelClaim() {
        #expect(ClaimPath("sub").value(in: claims) == "s-1")
    }

    @Test func followsDotsIntoNestedObjects() {
        #expect(ClaimPath("realm_access.roles").value(in: claims)?.textList == ["lms-student", "offline_access"])
        #expect(ClaimPath("resource_access.sse-gateway.roles").value(in: claims)?.textList == ["lms-admin"])
    }

    @Test func anExactTopLevelNameWithDotsWinsOverThePath() {
        #expect(ClaimPath("https://lms.example.com/roles").value(in: claims)?.textList == ["instructor"])
        #expect(ClaimPath("extn.student_ids").value(in: claims)?.textList == ["s-7"])
    }

    @Test func aPathThatLeadsNowhereIsAbsent() {
        #expect(ClaimPath("realm_access.groups").value(in: claims) == nil)
        #expect(ClaimPath("lms.student_ids").value(in: claims) == nil)
        #expect(ClaimPath("missing").value(in: claims) == nil)
        #expect(ClaimPath("realm_access.").value(in: claims) == nil)
        #expect(ClaimPath(".roles").value(in: claims) == nil)
    }
}
