import GatewayCore
import Testing

@Suite struct RoleMapTests {
    @Test func withoutEntriesRolesAreTakenAsTheyAre() {
        #expect(RoleMap().roles(from: ["student", "lms-admin"]) == ["student", "lms-admin"])
    }

    @Test func mappedRolesAreTheOnlyOnesThatCount() throws {
        let map = try RoleMap(entries: ["lms-admin=admin", "lms-teacher = instructor", "student=student"])
        #expect(map.roles(from: ["lms-admin", "offline_access"]) == ["admin"])
        #expect(map.roles(from: ["lms-teacher", "student"]) == ["instructor", "student"])
        // A provider role merely called like a gateway role grants nothing unless mapped.
        #expect(map.roles(from: ["admin", "instructor"]) == [])
    }

    @Test func oneProviderRoleMayGrantSeveralGatewayRoles() throws {
        let map = try RoleMap(entries: ["lms-staff=instructor", "lms-staff=admin"])
        #expect(map.roles(from: ["lms-staff"]) == ["instructor", "admin"])
        #expect(map.providerRole(for: "admin") == "lms-staff")
        #expect(map.providerRole(for: "student") == "student")
    }

    @Test func malformedEntriesAreRefused() {
        for entry in ["lms-admin", "=admin", "lms-admin=", "a=b=c", " = "] {
            #expect(throws: RoleMap.MalformedEntry(entry: entry)) { try RoleMap(entries: [entry]) }
        }
    }
}
