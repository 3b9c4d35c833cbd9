public import Events
public import IMDS

extension InstanceInfo {
    /// The payload's instance fields from the identity document.
    /// - Parameter document: The decoded identity document.
    public init(_ document: InstanceIdentityDocument) {
        self.init(
            instanceID: document.instanceID, instanceType: document.instanceType, region: document.region,
            availabilityZone: document.availabilityZone, accountID: document.accountID
        )
    }
}
