import Testing
@testable import KHOInspect
