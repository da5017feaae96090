import Testing
@testable import KHOCore
