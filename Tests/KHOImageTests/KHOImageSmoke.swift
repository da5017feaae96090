import Testing
@testable import KHOImage
