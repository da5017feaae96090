import Testing
@testable import KHOFormats
