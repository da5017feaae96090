import Testing
@testable import XArray
