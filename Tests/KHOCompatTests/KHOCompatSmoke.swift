import Testing
@testable import KHOCompat
