<#
.SYNOPSIS
    Builds Confero's Windows installer, dist\Confero-<version>-x64-setup.exe.

.DESCRIPTION
    From a fresh checkout on 64-bit Windows 10 or 11, in PowerShell (5.1 or 7):

        powershell -ExecutionPolicy Bypass -File packaging\windows\build-windows.ps1

    1. makes a virtual environment, .venv, with Python 3.11 (the py launcher's
       "py -3.11", or -Python C:\path\to\python.exe) and installs Confero into it
       with the packaging extra: pip install -e .[packaging];
    2. runs PyInstaller on packaging\bundle\confero.spec: dist\confero\ with the
       windowed confero.exe (Confero's icon, a version resource from pyproject.toml);
    3. signs confero.exe with signtool when a certificate is given;
    4. compiles packaging\windows\confero.iss with Inno Setup's ISCC.exe, passing
       the version from pyproject.toml; Setup and its uninstaller are signed too.

    Needs: Python 3.11 x64 (python.org installer, with the py launcher); Rust
    (rustup, the stable x86_64-pc-windows-msvc toolchain) and the Visual Studio
    Build Tools' "Desktop development with C++", because matrix-synapse has no
    Windows wheel and pip builds it; Inno Setup 6.3 or newer (winget install
    JRSoftware.InnoSetup); for signing, the Windows SDK's signtool.exe.

.PARAMETER Python
    The Python 3.11 that makes .venv. Default: "py -3.11" (the Python launcher).

.PARAMETER CertificateThumbprint
    SHA-1 thumbprint of the code-signing certificate in the user's or machine's
    certificate store (Get-ChildItem Cert:\CurrentUser\My -CodeSigningCert).
    Default: $env:CONFERO_SIGN_CERT_SHA1. Without one nothing is signed.

.PARAMETER TimestampUrl
    RFC 3161 timestamp server of the certificate's issuer (a signature stays
    valid after the certificate expires). Default: http://timestamp.digicert.com

.EXAMPLE
    $env:CONFERO_SIGN_CERT_SHA1 = "0123456789ABCDEF0123456789ABCDEF01234567"  # placeholder
    .\packaging\windows\build-windows.ps1
#>
[CmdletBinding()]
param(
    [string]$Python = "",
    [string]$CertificateThumbprint = $env:CONFERO_SIGN_CERT_SHA1,
    [string]$TimestampUrl = "http://timestamp.digicert.com"
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version 3.0

$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root

# A native program's failure is no PowerShell error: check its exit code.
function Invoke-Native {
    param([Parameter(Mandatory)][string]$Program, [string[]]$Arguments = @())
    & $Program @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "$Program $($Arguments -join ' ') failed (exit code $LASTEXITCODE)"
    }
}

function Find-Program {
    param([string]$Name, [string[]]$Candidates, [string]$Hint)
    $command = Get-Command $Name -ErrorAction SilentlyContinue
    if ($command) { return $command.Source }
    foreach ($candidate in $Candidates) {
        if ($candidate -and (Test-Path $candidate)) { return $candidate }
    }
    throw "$Name not found. $Hint"
}

function Find-SignTool {
    $command = Get-Command signtool.exe -ErrorAction SilentlyContinue
    if ($command) { return $command.Source }
    $kits = Join-Path ${env:ProgramFiles(x86)} "Windows Kits\10\bin"
    $found = Get-ChildItem $kits -Recurse -Filter signtool.exe -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -like "*\x64\signtool.exe" } |
        Sort-Object FullName -Descending | Select-Object -First 1
    if ($found) { return $found.FullName }
    throw "signtool.exe not found: install the Windows SDK with its Signing Tools."
}

# --- 1. The virtual environment -----------------------------------------------------
$VenvPython = Join-Path $Root ".venv\Scripts\python.exe"
if (-not (Test-Path $VenvPython)) {
    Write-Host "Making .venv"
    if ($Python) {
        Invoke-Native $Python @("-m", "venv", ".venv")
    } else {
        Invoke-Native "py" @("-3.11", "-m", "venv", ".venv")
    }
}
# matrix-synapse publishes no Windows wheels: pip builds it, with its Rust part, from source.
if (-not (Get-Command cargo -ErrorAction SilentlyContinue)) {
    Write-Warning ("No Rust toolchain (cargo) on PATH: pip cannot build matrix-synapse, which has " +
        "no Windows wheel. Install rustup (winget install Rustlang.Rustup) and the Visual Studio " +
        "Build Tools with 'Desktop development with C++', then open a new PowerShell.")
}
Invoke-Native $VenvPython @("-m", "pip", "install", "--upgrade", "pip")
Invoke-Native $VenvPython @("-m", "pip", "install", "-e", ".[packaging]")

# The version, and Windows' four-number form of it ("1.2.0rc1" -> 1.2.0.0).
$versionCode = "import re, tomllib; v = tomllib.load(open('pyproject.toml', 'rb'))['project']['version']; " +
    "n = (re.match(r'\d+(\.\d+)*', v).group(0).split('.') + ['0'] * 3)[:4]; print(v); print('.'.join(n))"
$versions = @(& $VenvPython -c $versionCode)
if ($LASTEXITCODE -ne 0 -or $versions.Count -ne 2) { throw "Cannot read the version from pyproject.toml" }
$Version = $versions[0].Trim()
$NumericVersion = $versions[1].Trim()
Write-Host "Confero $Version"

# --- 2. The frozen bundle -----------------------------------------------------------
$Bundle = Join-Path $Root "dist\confero"
if (Test-Path $Bundle) { Remove-Item $Bundle -Recurse -Force }
Invoke-Native $VenvPython @(
    "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
    "--distpath", "dist", "--workpath", "build\pyinstaller", "packaging\bundle\confero.spec"
)
# Byte-code caches of the meeting server's schema scripts would be written at first start.
Get-ChildItem $Bundle -Recurse -Directory -Filter "__pycache__" | Remove-Item -Recurse -Force
$Exe = Join-Path $Bundle "confero.exe"
$builtVersion = (Get-Item $Exe).VersionInfo.ProductVersion
if ($builtVersion -ne $Version) {
    throw "confero.exe says version '$builtVersion', pyproject.toml '$Version'"
}
$size = (Get-ChildItem $Bundle -Recurse -File | Measure-Object -Property Length -Sum).Sum
Write-Host ("Built dist\confero\ ({0:N0} MB)" -f ($size / (1024 * 1024)))

# --- 3. Signing confero.exe ---------------------------------------------------------
$Sign = [bool]$CertificateThumbprint
if ($Sign) {
    $SignTool = Find-SignTool
    $signArguments = @(
        "sign", "/sha1", $CertificateThumbprint, "/fd", "SHA256",
        "/tr", $TimestampUrl, "/td", "SHA256", "/d", "Confero"
    )
    Invoke-Native $SignTool ($signArguments + @($Exe))
    Invoke-Native $SignTool @("verify", "/pa", $Exe)
} else {
    Write-Warning "No certificate (-CertificateThumbprint or CONFERO_SIGN_CERT_SHA1): nothing is signed; SmartScreen will warn about the installer."
}

# --- 4. The installer ---------------------------------------------------------------
$Iscc = Find-Program "ISCC.exe" @(
    (Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe"),
    (Join-Path $env:ProgramFiles "Inno Setup 6\ISCC.exe"),
    (Join-Path $env:LOCALAPPDATA "Programs\Inno Setup 6\ISCC.exe")
) "Install Inno Setup 6.3 or newer: winget install JRSoftware.InnoSetup"
$isccArguments = @(
    "/DAppVersion=$Version",
    "/DAppVersionNumeric=$NumericVersion",
    "/DSourceDir=$Bundle",
    "/DOutputDir=$(Join-Path $Root 'dist')",
    "/DIconFile=$(Join-Path $Root 'packaging\icons\confero.ico')"
)
if ($Sign) {
    # The Sign Tool "conferosign" that confero.iss uses. Single quotes: $q (a quote)
    # and $f (the file to sign) are Inno Setup's, not PowerShell's.
    $signCommand = '$q' + $SignTool + '$q ' + ($signArguments -join ' ') + ' $f'
    $isccArguments += @("/DSign", "/Sconferosign=$signCommand")
}
Invoke-Native $Iscc ($isccArguments + @((Join-Path $Root "packaging\windows\confero.iss")))

$Setup = Join-Path $Root "dist\Confero-$Version-x64-setup.exe"
if (-not (Test-Path $Setup)) { throw "ISCC did not write $Setup" }
if ($Sign) { Invoke-Native $SignTool @("verify", "/pa", $Setup) }
Write-Host "Built $Setup"
